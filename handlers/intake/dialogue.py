"""Guided intake: a facility owner's chat becomes a draft support application and a DOCX.

The dialogue (steps and wording in ``handlers.intake_steps``): support content → kind of
facility (eligibility) → sector → province → commune (location test) → facility name →
registration/tax number (optional) → owner → phone → products → workers → plan → cost →
counterpart funds → expected results → summary (confirm or edit any field) → saved draft
and the filled request document.

Every answer is kept in ``ctx.state.data["a"]`` *and* in the user's draft row with status
``in_progress`` (same transaction), so /cancel, hours of silence or a restart lose nothing:
"Tạo hồ sơ" then offers "tiếp tục hay làm lại". Payloads: ``intake:<action>[:<arg>]``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.types import Button, Document, Reply, buttons_in_rows
from db.models.drafts import Draft
from db.repos.drafts import DraftRepo
from handlers.base import Context, Feature, Services, button
from handlers.intake import steps as S
from handlers.intake.document import DOCX_MIME, addressee, build_request_docx, filename_for
from handlers.intake.parse import (
    Invalid,
    clean_text,
    is_back,
    parse_count,
    parse_money,
    parse_phone,
    parse_reg_no,
)
from knowledge import places
from knowledge.normalize import fold_key
from knowledge.places import in_sentence
from knowledge.support import catalogue

log = logging.getLogger(__name__)

NAME = "intake"
BACK = "⬅️ Quay lại"
EXIT = "✖️ Thoát"
NOTES = "ℹ️ Lưu ý về ước tính"
TO_SUMMARY = "⬅️ Về bản tóm tắt"

INTRO = (
    "📝 Mình sẽ hỏi {n} câu ngắn để làm hồ sơ đề nghị hỗ trợ (khoảng 5 phút). "
    "Câu trả lời được lưu ngay — dừng giữa chừng rồi quay lại làm tiếp cũng được. "
    "Gõ «quay lại» để sửa câu trước."
)
RESUME = "Bạn đang làm dở hồ sơ (đã trả lời {done}/{n} câu) — tiếp tục hay làm lại?"
LOST = (
    "Hồ sơ đang làm đã được lưu hoặc không còn mở. "
    "Bạn bấm «Tạo hồ sơ» để làm hồ sơ mới, hoặc /hoso để xem hồ sơ của bạn."
)
CHOOSE = "Bạn chọn một nút bên dưới giúp mình nhé."
YES = {"co", "dung", "dung roi", "phai", "ok", "oke", "u", "uh", "vang", "da", "chuan", "yes"}
SKIP = {"bo qua", "khong co", "chua co", "khong", "chua", "skip", "ko co", "k co"}
CONFIRM = {"xac nhan", "dong y", "ok", "luu", "luu ho so", "xong", "oke", "dong y luu"}
# Typed forms of the buttons, for channels without buttons (terminal, Zalo), where a typed
# "1" at a numeric step is the answer, not the first button.
KEEP = {"giu nguyen", "giu", "giu nhu cu", "nhu cu", "khong doi", "giu nguyen nhu cu"}
EXIT_WORDS = {"thoat", "thoat ra", "dung lai", "exit"}
CAVEAT_LINE = "Số tiền chỉ là ước tính; Trung tâm và quy định hiện hành của tỉnh quyết định."
NAME_TIP = "Mẹo: gõ có dấu để đơn in ra đúng tên (ví dụ: Nguyễn Văn Hùng)."
EXITED = "Đã dừng. Những gì bạn đã trả lời vẫn được lưu: bấm «📝 Tạo hồ sơ» khi muốn làm tiếp."

# Free-text limits per step (characters).
TEXT_LIMITS = {
    "facility_name": 200,
    "owner_name": 100,
    "products": 500,
    "plan": 1000,
    "results": 1000,
    "sector": 200,
}
# How each free-text step is named in messages ("… dài quá").
TEXT_WHAT = {"owner_name": "họ tên chủ cơ sở"}
# Which answer key shows that a step was answered.
ANSWER_KEY = {"province": "province_code", "commune": "commune_code"}


def _b(label: str, action: str, arg: str = "") -> Button:
    return button(label, NAME, action, arg)


def _answered(answers: dict[str, Any], step: str) -> bool:
    key = ANSWER_KEY.get(step, step)
    if step == "reg_no":
        return key in answers
    return answers.get(key) not in (None, "")


class IntakeFeature(Feature):
    name = NAME
    commands = {"hoso": "Hồ sơ của tôi"}
    numeric_steps = S.NUMERIC

    def __init__(self, services: Services) -> None:
        self.services = services

    # --- entry points ------------------------------------------------------------------

    async def on_command(self, ctx: Context, command: str, args: str) -> list[Reply]:
        if command == "hoso":
            return await self.my_drafts(ctx)
        return await ctx.router.unknown_command(ctx)

    async def on_button(self, ctx: Context, action: str, arg: str) -> list[Reply]:
        if action == "open":
            return await self.open(ctx)
        if action == "resume":
            return await self.resume(ctx)
        if action == "restart":
            return await self.restart(ctx)
        if action == "mine":
            return await self.my_drafts(ctx)
        if action == "doc":
            return await self.resend(ctx, arg)
        if ctx.state.dialogue != NAME or not ctx.state.step:
            return await ctx.router.stale_button(ctx)
        draft = await self._draft(ctx)
        if draft is None:
            return self._lost(ctx)
        step = ctx.state.step
        if action == "back":
            return await self.back(ctx, draft)
        if action == "exit":
            return self._exit(ctx)
        if action == "pick":
            step_id, _, value = arg.partition(":")
            if step_id != step:
                return await ctx.router.stale_button(ctx)
            return await self._pick(ctx, draft, step, value)
        if action == "prov" and step == "province":
            return await self._choose_province(ctx, draft, arg)
        if action == "com" and step == "commune":
            return await self._choose_commune(ctx, draft, arg)
        if action == "pc" and step == "province":
            return await self._choose_province_and_commune(ctx, draft, arg)
        if action == "retype" and step in S.BY_ID:
            ctx.state.data.pop("cands", None)
            return self._question(ctx, step)
        if action == "skip" and step == "reg_no":
            return await self._set(ctx, draft, {"reg_no": ""})
        if action == "keep" and step in S.BY_ID and _answered(self._a(ctx), step):
            return await self._set(ctx, draft, {})  # re-checks eligibility, then goes on
        if step == "summary":
            if action == "confirm":
                return await self.confirm(ctx, draft)
            if action == "edit" and not arg:
                return [self._edit_menu()]
            if action == "edit" and arg in S.BY_ID:
                ctx.state.data["editing"] = True
                ctx.state.data["queue"] = []
                return self._goto(ctx, draft, arg)
            if action == "summary":
                return [self._summary(ctx)]
            if action == "notes":
                return [self._notes(ctx)]
        return await ctx.router.stale_button(ctx)

    async def on_text(self, ctx: Context) -> list[Reply]:
        step = ctx.state.step
        if ctx.state.dialogue != NAME or not step:
            ctx.finish()
            return await ctx.router.free_text(ctx)
        if step == "resume":
            return [Reply(CHOOSE), *await self.reprompt(ctx)]
        draft = await self._draft(ctx)
        if draft is None:
            return self._lost(ctx)
        text = ctx.text
        if text and is_back(text):
            return await self.back(ctx, draft)
        if fold_key(text) in EXIT_WORDS:
            return self._exit(ctx)
        if ctx.incoming.phone and step != "phone":
            return [
                Reply("Mình chưa cần số điện thoại ở bước này."),
                *self._question(ctx, step),
            ]
        if step == "summary":
            if fold_key(text) in CONFIRM:
                return await self.confirm(ctx, draft)
            return [
                Reply("Bạn bấm «Xác nhận» để lưu, hoặc «Sửa một mục» để sửa nhé."),
                self._summary(ctx),
            ]
        if step not in S.BY_ID:  # a step from an older version of this dialogue
            return self._goto(ctx, draft, self._first_missing(ctx) or "support")
        if fold_key(text) in KEEP and _answered(self._a(ctx), step):
            ctx.state.data.pop("cands", None)
            return await self._set(ctx, draft, {})  # as the «Giữ nguyên» button
        try:
            return await self._answer(ctx, draft, step, text)
        except Invalid as exc:
            return [Reply(str(exc)), *self._question(ctx, step)]

    async def reprompt(self, ctx: Context) -> list[Reply]:
        step = ctx.state.step
        if step == "resume":
            done = sum(1 for s in S.STEP_IDS if _answered(self._a(ctx), s))
            return [self._resume_question(done)]
        if step == "summary":
            return [self._summary(ctx)]
        if step in S.BY_ID:
            return self._question(ctx, step)
        return []

    # --- opening, resuming, listing ------------------------------------------------------

    async def open(self, ctx: Context) -> list[Reply]:
        repo = DraftRepo(ctx.session)
        draft = await repo.in_progress(ctx.user.id)
        if draft is not None and any(_answered(draft.answers or {}, s) for s in S.STEP_IDS):
            ctx.start(NAME, "resume", {"draft_id": draft.id, "a": dict(draft.answers or {})})
            done = sum(1 for s in S.STEP_IDS if _answered(draft.answers or {}, s))
            return [self._resume_question(done)]
        if draft is None:
            draft = await repo.start(ctx.user.id, ctx.incoming.channel, ctx.incoming.chat_id)
        ctx.start(NAME, "support", {"draft_id": draft.id, "a": {}})
        return [Reply(INTRO.format(n=S.TOTAL)), *self._goto(ctx, draft, "support")]

    def _resume_question(self, done: int) -> Reply:
        return Reply(
            RESUME.format(done=done, n=S.TOTAL),
            buttons=[
                [_b("▶️ Tiếp tục", "resume")],
                [_b("🔄 Làm lại từ đầu", "restart")],
            ],
        )

    async def resume(self, ctx: Context) -> list[Reply]:
        draft = await DraftRepo(ctx.session).in_progress(ctx.user.id)
        if draft is None:
            return await self.open(ctx)
        answers = dict(draft.answers or {})
        ctx.start(NAME, "support", {"draft_id": draft.id, "a": answers})
        step = draft.step if draft.step in (*S.STEP_IDS, "summary") else None
        step = step or self._first_missing(ctx) or "summary"
        if step == "summary":
            ctx.state.step = "summary"
            draft.step = "summary"
            return [Reply("Tiếp tục nhé 👍"), self._summary(ctx)]
        return [Reply("Tiếp tục nhé 👍"), *self._goto(ctx, draft, step)]

    async def restart(self, ctx: Context) -> list[Reply]:
        repo = DraftRepo(ctx.session)
        old = await repo.in_progress(ctx.user.id)
        if old is not None:
            await repo.set_status(
                old, "abandoned", actor=self._actor(ctx), note="Chủ cơ sở chọn làm lại từ đầu"
            )
        draft = await repo.start(ctx.user.id, ctx.incoming.channel, ctx.incoming.chat_id)
        ctx.start(NAME, "support", {"draft_id": draft.id, "a": {}})
        return [Reply(INTRO.format(n=S.TOTAL)), *self._goto(ctx, draft, "support")]

    async def my_drafts(self, ctx: Context) -> list[Reply]:
        drafts = await DraftRepo(ctx.session).for_user(ctx.user.id)
        if not drafts:
            return [
                Reply(
                    "Bạn chưa có hồ sơ nào.",
                    buttons=[[_b("📝 Tạo hồ sơ đề nghị hỗ trợ", "open")]],
                )
            ]
        repo = DraftRepo(ctx.session)
        lines = ["📂 Hồ sơ của bạn:"]
        rows: list[list[Button]] = []
        for d in drafts[:10]:
            st = catalogue().get(d.support_type)
            what = st.label if st else "chưa chọn nội dung"
            when = _local_date(d.confirmed_at or d.created_at)
            lines.append(f"• #{d.id} · {what} · {S.STATUS_LABELS.get(d.status, d.status)} · {when}")
            note = await self._staff_note(repo, d)
            if note:
                lines.append(f"   ✍️ Ghi chú của cán bộ: {note}")
            if d.status == "in_progress":
                rows.insert(0, [_b("▶️ Tiếp tục hồ sơ đang làm", "resume")])
            elif len(rows) < 6:
                rows.append([_b(f"📄 Gửi lại đơn #{d.id}", "doc", str(d.id))])
        rows.append([button("🏠 Menu", "menu", "home")])
        return [Reply("\n".join(lines), buttons=rows)]

    @staticmethod
    async def _staff_note(repo: DraftRepo, draft: Draft) -> str | None:
        """The note of the latest status change, when staff made it and wrote one."""
        if draft.status == "in_progress":
            return None
        changes = [e for e in await repo.history(draft.id) if e.kind == "status"]
        if not changes:
            return None
        last = changes[-1]
        if not last.note or not last.actor.startswith("staff:"):
            return None
        note = " ".join(last.note.split())
        return note if len(note) <= 300 else note[:299] + "…"

    async def resend(self, ctx: Context, arg: str) -> list[Reply]:
        draft = await DraftRepo(ctx.session).get(int(arg)) if arg.isdigit() else None
        if (
            draft is None
            or draft.user_id != ctx.user.id
            or draft.status in ("in_progress", "abandoned")
        ):
            return [Reply("Mình không tìm thấy hồ sơ này trong hồ sơ của bạn.")]
        return [self._document_reply(draft, f"📄 Đơn đề nghị của hồ sơ #{draft.id}.")]

    # --- the steps ---------------------------------------------------------------------

    async def _answer(self, ctx: Context, draft: Draft, step: str, text: str) -> list[Reply]:
        a = self._a(ctx)
        if step == "support":
            value = S.guess_support(text)
            if value is None:
                raise Invalid(CHOOSE + " Ví dụ: bấm «⚙️ Máy móc, thiết bị».")
            return await self._set(ctx, draft, {"support": value})
        if step == "kind":
            value = S.guess_kind(text)
            if value is None:
                raise Invalid(CHOOSE + " Ví dụ: «Hộ kinh doanh».")
            return await self._set(ctx, draft, {"kind": value})
        if step == "sector":
            key = S.guess_sector(text)
            if key is not None:
                return await self._set(ctx, draft, {"sector": key, "sector_text": ""})
            value = clean_text(
                text, what="ngành nghề", example="chế biến gỗ", max_len=TEXT_LIMITS["sector"]
            )
            return await self._set(ctx, draft, {"sector": "other", "sector_text": value})
        if step == "province":
            return self._province_candidates(ctx, text)
        if step == "commune":
            return self._commune_candidates(ctx, text)
        if step == "reg_no":
            if fold_key(text) in SKIP:
                return await self._set(ctx, draft, {"reg_no": ""})
            return await self._set(ctx, draft, {"reg_no": parse_reg_no(text, a.get("kind"))})
        if step == "phone":
            raw = ctx.incoming.phone or text
            return await self._set(ctx, draft, {"phone": parse_phone(raw)})
        if step == "workers":
            return await self._set(ctx, draft, {"workers": parse_count(text)})
        if step == "cost":
            return await self._set(ctx, draft, {"cost": parse_money(text)})
        if step == "counterpart":
            amount = parse_money(text)
            cost = a.get("cost")
            if isinstance(cost, int) and amount > cost:
                raise Invalid(
                    "Vốn đối ứng không được lớn hơn tổng chi phí "
                    f"({S.money_words(cost)}). Bạn gõ lại, ví dụ: 200 triệu."
                )
            return await self._set(ctx, draft, {"counterpart": amount})
        # free text steps
        info = S.BY_ID[step]
        what = TEXT_WHAT.get(step) or info.label[:1].lower() + info.label[1:]
        value = clean_text(text, what=what, example=info.example, max_len=TEXT_LIMITS[step])
        if step == "owner_name" and re.search(r"\d", value):
            raise Invalid(f"Họ tên không có chữ số. Ví dụ: {info.example}")
        tip: list[Reply] = []
        if (
            step in ("facility_name", "owner_name")
            and not ctx.state.data.get("tipped")
            and not re.search(r"[À-ỹ]", value)  # typed without any diacritics
        ):
            ctx.state.data["tipped"] = True
            tip = [Reply(NAME_TIP)]
        return [*tip, *await self._set(ctx, draft, {step: value})]

    async def _pick(self, ctx: Context, draft: Draft, step: str, value: str) -> list[Reply]:
        if step == "support" and catalogue().get(value) is not None:
            return await self._set(ctx, draft, {"support": value})
        if step == "kind" and value in S.KINDS:
            return await self._set(ctx, draft, {"kind": value})
        if step == "sector" and value in S.SECTORS:
            if value == "other":
                return [Reply("Bạn gõ tên ngành nghề của cơ sở nhé. Ví dụ: chế biến gỗ")]
            return await self._set(ctx, draft, {"sector": value, "sector_text": ""})
        return await ctx.router.stale_button(ctx)

    def _province_candidates(self, ctx: Context, text: str) -> list[Reply]:
        cands = ctx.state.data.get("cands") or []
        if cands and fold_key(text) in YES:
            return [Reply("Bạn bấm vào tên tỉnh/thành đúng ở nút bên dưới nhé.")]
        name = clean_text(text, what="tên tỉnh/thành phố", example="Quảng Ngãi", max_len=100)
        matches = places.match_province(name)
        if not matches:
            communes = places.find_commune_anywhere(name)
            if communes:
                return self._communes_anywhere(ctx, name, communes)
            raise Invalid(
                f"Mình không tìm thấy tỉnh/thành phố «{name[:40]}». "
                "Bạn gõ tên tỉnh/thành phố, ví dụ: Quảng Ngãi (tên tỉnh cũ như Quảng Nam "
                "cũng được)."
            )
        ctx.state.data["cands"] = [m.code for m in matches]
        rows = []
        for m in matches:
            label = f"📍 {m.name}" + (f" (gồm {m.via} cũ)" if m.via else "")
            rows.append([_b(label, "prov", str(m.code))])
        rows += [[_b("✏️ Nhập lại", "retype")], [_b(BACK, "back")]]
        first = matches[0]
        if len(matches) == 1 and first.via:
            text_ = (
                f"{first.via} nay thuộc {in_sentence(first.name)} (từ 1/7/2025). "
                "Bạn bấm để xác nhận nhé:"
            )
        elif len(matches) == 1:
            text_ = f"Có phải {in_sentence(first.name)}? Bạn bấm để xác nhận nhé:"
        else:
            text_ = "Bạn chọn đúng tỉnh/thành phố:"
        return [Reply(text_, buttons=rows)]

    def _communes_anywhere(
        self, ctx: Context, name: str, communes: list[places.Commune]
    ) -> list[Reply]:
        """A commune's name typed at the province step: offer it with its province."""
        ctx.state.data["cands"] = [c.code for c in communes]
        rows = []
        for c in communes:
            province = places.province_by_code(c.province_code)
            where = province.name if province else ""
            rows.append([_b(f"📍 {c.name}, {where}", "pc", str(c.code))])
        rows += [[_b("✏️ Nhập lại", "retype")], [_b(BACK, "back")]]
        if len(communes) == 1:
            c = communes[0]
            province = places.province_by_code(c.province_code)
            where = in_sentence(province.full_name) if province else ""
            text_ = (
                f"Mình không thấy tỉnh/thành phố «{name[:40]}», nhưng có "
                f"{in_sentence(c.name)}. Có phải {in_sentence(c.name)}, {where}? "
                "Bạn bấm để xác nhận, hoặc gõ tên tỉnh/thành phố:"
            )
        else:
            text_ = (
                f"«{name[:40]}» là tên xã/phường ở nhiều tỉnh. Bạn bấm đúng nơi, "
                "hoặc gõ tên tỉnh/thành phố:"
            )
        return [Reply(text_, buttons=rows)]

    async def _choose_province_and_commune(
        self, ctx: Context, draft: Draft, arg: str
    ) -> list[Reply]:
        commune = places.commune_by_code(int(arg)) if arg.isdigit() else None
        province = places.province_by_code(commune.province_code) if commune else None
        if commune is None or province is None:
            return await ctx.router.stale_button(ctx)
        # Both answers at once; go on as after the commune step (location test included).
        ctx.state.step = "commune"
        values: dict[str, Any] = {
            "province_code": province.code,
            "province": province.name,
            "province_full": province.full_name,
            "commune_code": commune.code,
            "commune": commune.name,
        }
        return await self._set(ctx, draft, values)

    async def _choose_province(self, ctx: Context, draft: Draft, arg: str) -> list[Reply]:
        province = places.province_by_code(int(arg)) if arg.isdigit() else None
        if province is None:
            return await ctx.router.stale_button(ctx)
        a = self._a(ctx)
        values: dict[str, Any] = {
            "province_code": province.code,
            "province": province.name,
            "province_full": province.full_name,
        }
        if a.get("province_code") != province.code:
            values.update({"commune_code": None, "commune": None})
            if ctx.state.data.get("editing"):
                ctx.state.data["queue"] = ["commune", *ctx.state.data.get("queue", [])]
        return await self._set(ctx, draft, values)

    def _commune_candidates(self, ctx: Context, text: str) -> list[Reply]:
        a = self._a(ctx)
        pcode = a.get("province_code")
        if not pcode:
            raise Invalid("Bạn cần chọn tỉnh/thành phố trước.")
        if ctx.state.data.get("cands") and fold_key(text) in YES:
            return [Reply("Bạn bấm vào tên xã/phường đúng ở nút bên dưới nhé.")]
        example = places.example_commune(int(pcode))
        name = clean_text(text, what="tên xã/phường", example=example, max_len=100)
        matches = places.match_commune(int(pcode), name)
        province = in_sentence(str(a.get("province") or ""))
        if not matches:
            raise Invalid(
                f"Mình không tìm thấy «{name[:40]}» ở {province}. Bạn gõ tên xã, "
                f"phường hoặc đặc khu mới (sau sáp nhập), ví dụ: {example}."
            )
        ctx.state.data["cands"] = [m.code for m in matches]
        rows = [[_b(f"📍 {m.name}", "com", str(m.code))] for m in matches]
        rows += [[_b("✏️ Nhập lại", "retype")], [_b(BACK, "back")]]
        if len(matches) == 1:
            text_ = f"Có phải {in_sentence(matches[0].name)}, {province}? Bạn bấm để xác nhận nhé:"
        else:
            text_ = f"Bạn chọn đúng xã/phường ở {province}:"
        return [Reply(text_, buttons=rows)]

    async def _choose_commune(self, ctx: Context, draft: Draft, arg: str) -> list[Reply]:
        commune = places.commune_by_code(int(arg)) if arg.isdigit() else None
        if commune is None or commune.province_code != self._a(ctx).get("province_code"):
            return await ctx.router.stale_button(ctx)
        return await self._set(ctx, draft, {"commune_code": commune.code, "commune": commune.name})

    async def _set(self, ctx: Context, draft: Draft, values: dict[str, Any]) -> list[Reply]:
        """Store answers (state and draft row), check eligibility, go on."""
        step = ctx.state.step or ""
        # A new dict, never an in-place change: the engine copies the state shallowly and
        # would not see a nested change as a change.
        a = {**self._a(ctx), **values}
        ctx.state.data["a"] = a
        ctx.state.data.pop("cands", None)
        self._save(ctx, draft)
        notes: list[Reply] = []
        reason = S.ineligible(a)
        if reason is not None and step in ("kind", "support"):
            return [self._blocked(ctx, draft, reason)]
        if step == "commune" and a.get("province_code") and a.get("commune_code"):
            check = places.location_test(a["province_code"], a["commune_code"])
            if not check.ok:
                notes.append(Reply(f"ℹ️ {check.note} Mình vẫn ghi tiếp hồ sơ để cán bộ xem."))
        if step == "cost":
            line = S.estimate_line(a, self.services.settings.centre_name)
            if line is not None:
                notes.append(Reply(f"💡 {line}"))
            if (
                ctx.state.data.get("editing")
                and isinstance(a.get("counterpart"), int)
                and a["counterpart"] > a["cost"]
            ):
                ctx.state.data["queue"] = ["counterpart", *ctx.state.data.get("queue", [])]
        return [*notes, *await self._advance(ctx, draft, step)]

    def _blocked(self, ctx: Context, draft: Draft, reason: str) -> Reply:
        ctx.state.step = "kind"
        draft.step = "kind"
        return Reply(
            f"😔 {reason}\nBạn có thể hỏi cán bộ Trung tâm để được hướng dẫn.",
            buttons=[
                [button("☎️ Liên hệ cán bộ", "menu", "contact")],
                [_b("🔁 Chọn lại loại hình", "retype")],
                [button("🏠 Menu", "menu", "home")],
            ],
        )

    async def _advance(self, ctx: Context, draft: Draft, step: str) -> list[Reply]:
        if ctx.state.data.get("editing"):
            queue = list(ctx.state.data.get("queue") or [])
            if queue:
                ctx.state.data["queue"] = queue[1:]
                return self._goto(ctx, draft, queue[0])
            return self._to_summary(ctx, draft)
        if step in S.STEP_IDS:
            index = S.STEP_IDS.index(step)
            if index + 1 < S.TOTAL:
                return self._goto(ctx, draft, S.STEP_IDS[index + 1])
        missing = self._first_missing(ctx)
        if missing:
            return self._goto(ctx, draft, missing)
        return self._to_summary(ctx, draft)

    async def back(self, ctx: Context, draft: Draft) -> list[Reply]:
        step = ctx.state.step or ""
        ctx.state.data.pop("cands", None)
        if ctx.state.data.get("editing"):
            return self._to_summary(ctx, draft)
        if step == "summary":
            return self._goto(ctx, draft, S.STEP_IDS[-1])
        if step not in S.STEP_IDS or S.STEP_IDS.index(step) == 0:
            return [
                Reply(f"Đây là câu đầu tiên rồi. Muốn dừng thì bấm «{EXIT}»."),
                *self._goto(ctx, draft, "support"),
            ]
        return self._goto(ctx, draft, S.STEP_IDS[S.STEP_IDS.index(step) - 1])

    def _exit(self, ctx: Context) -> list[Reply]:
        """Leave the intake; the draft stays in progress with every answer given."""
        ctx.finish()
        return [
            Reply(
                EXITED,
                buttons=[
                    [_b("📝 Tạo hồ sơ", "open")],
                    [button("🏠 Menu", "menu", "home")],
                ],
            )
        ]

    def _goto(self, ctx: Context, draft: Draft, step: str) -> list[Reply]:
        ctx.state.step = step
        draft.step = step
        return self._question(ctx, step)

    def _to_summary(self, ctx: Context, draft: Draft) -> list[Reply]:
        missing = self._first_missing(ctx)
        if missing:
            ctx.state.data["editing"] = False
            return self._goto(ctx, draft, missing)
        ctx.state.data["editing"] = False
        ctx.state.data["queue"] = []
        ctx.state.step = "summary"
        draft.step = "summary"
        return [self._summary(ctx)]

    def _question(self, ctx: Context, step: str) -> list[Reply]:
        a = self._a(ctx)
        info = S.BY_ID[step]
        number = S.STEP_IDS.index(step) + 1
        question, example = info.question, info.example
        telegram = ctx.incoming.channel == "telegram"
        if step == "commune" and a.get("province"):
            question = f"Cơ sở ở xã, phường hay đặc khu nào của {in_sentence(a['province'])}?"
        if step == "commune" and a.get("province_code"):
            example = places.example_commune(int(a["province_code"]))
        if step == "counterpart" and isinstance(a.get("cost"), int):
            question += f" Tổng chi phí: {S.money_words(a['cost'])}."
        if step == "phone" and not telegram:
            question = "Số điện thoại di động để cán bộ liên hệ? Bạn gõ số nhé."
        lines = [f"Bước {number}/{S.TOTAL}. {question}"]
        if example:
            lines.append(f"Ví dụ: {example}")
        rows: list[list[Button]] = []
        if step == "support":
            rows = buttons_in_rows(
                [_b(t.button, "pick", f"support:{t.id}") for t in catalogue().types.values()], 2
            )
        elif step == "kind":
            rows = buttons_in_rows([_b(v, "pick", f"kind:{k}") for k, v in S.KINDS.items()], 1)
        elif step == "sector":
            rows = buttons_in_rows([_b(v, "pick", f"sector:{k}") for k, v in S.SECTORS.items()], 1)
        elif step == "reg_no":
            rows = [[_b("⏭️ Bỏ qua", "skip")]]
        if _answered(a, step):
            current = S.display(a, step)
            lines.append(f"(Hiện tại: {current})")
            rows.append([_b("✔️ Giữ nguyên", "keep")])
        editing = bool(ctx.state.data.get("editing"))
        if editing:
            back = [_b(TO_SUMMARY, "back")]
        elif number == 1:
            back = [_b(EXIT, "exit")]
        else:
            back = [_b(BACK, "back")]
        if step == "phone" and telegram:
            # Telegram shows one keyboard per message: the share-contact one wins, so the
            # other buttons go on a second message.
            second = "Hoặc bấm:" if rows else "Cần sửa câu trước thì bấm:"
            return [
                Reply("\n".join(lines), request_phone=True),
                Reply(second, buttons=[*rows, back]),
            ]
        return [Reply("\n".join(lines), buttons=[*rows, back])]

    def _summary(self, ctx: Context) -> Reply:
        a = self._a(ctx)
        centre = self.services.settings.centre_name
        lines = ["📋 Xem lại hồ sơ của bạn:"]
        for i, step in enumerate(S.STEPS, 1):
            lines.append(f"{i}. {step.label}: {S.display(a, step.id)}")
        line = S.estimate_line(a, centre)
        if line is not None:
            lines += ["", f"💰 {line}", f"ℹ️ {CAVEAT_LINE}"]
        lines += ["", "Đúng hết thì bấm «Xác nhận»; cần sửa thì bấm «Sửa một mục»."]
        return Reply("\n".join(lines), buttons=self._summary_buttons(a))

    def _summary_buttons(self, a: dict[str, Any]) -> list[list[Button]]:
        rows = [[_b("✅ Xác nhận, lưu hồ sơ", "confirm")], [_b("✏️ Sửa một mục", "edit")]]
        if S.estimate_for(a, self.services.settings.centre_name) is not None or S.review_notes(a):
            rows.append([_b(NOTES, "notes")])
        return [*rows, [_b(BACK, "back")]]

    def _notes(self, ctx: Context) -> Reply:
        """The longer caveats behind «ℹ️ Lưu ý về ước tính», with the summary's buttons."""
        a = self._a(ctx)
        est = S.estimate_for(a, self.services.settings.centre_name)
        lines = [f"ℹ️ {est.caveat}"] if est is not None else []
        notes = S.review_notes(a)
        if notes:
            lines += ["", "🔎 Cán bộ sẽ kiểm tra thêm:"] + [f"• {n}" for n in notes]
        if not lines:
            lines = [f"ℹ️ {CAVEAT_LINE}"]
        rows = [r for r in self._summary_buttons(a) if r[0].payload != "intake:notes"]
        rows[-1] = [_b(TO_SUMMARY, "summary")]
        return Reply("\n".join(lines).strip(), buttons=rows)

    def _edit_menu(self) -> Reply:
        buttons = [_b(f"{i}. {s.label}", "edit", s.id) for i, s in enumerate(S.STEPS, 1)]
        return Reply(
            "Bạn muốn sửa mục nào?",
            buttons=[*buttons_in_rows(buttons, 2), [_b(TO_SUMMARY, "summary")]],
        )

    async def confirm(self, ctx: Context, draft: Draft) -> list[Reply]:
        missing = self._first_missing(ctx)
        if missing:
            return [Reply("Hồ sơ còn thiếu một câu trả lời."), *self._goto(ctx, draft, missing)]
        a = self._a(ctx)
        reason = S.ineligible(a)
        if reason is not None:
            return [self._blocked(ctx, draft, reason)]
        self._save(ctx, draft)
        repo = DraftRepo(ctx.session)
        await repo.set_status(
            draft, "draft", actor=self._actor(ctx), note="Chủ cơ sở xác nhận hồ sơ qua chat"
        )
        ctx.finish()
        centre = addressee(self.services.settings.centre_name, str(a.get("province_full") or ""))
        text = (
            f"✅ Đã lưu hồ sơ #{draft.id} (bản nháp).\n"
            "Mình gửi kèm đơn đề nghị đã điền sẵn: bạn in ra, kiểm tra, ký tên rồi nộp cho "
            f"{centre} cùng bản sao giấy đăng ký kinh doanh, thuyết minh dự án và báo giá "
            "(nếu mua máy). Danh mục hồ sơ cụ thể do Trung tâm hướng dẫn."
        )
        if draft.needs_review:
            text += "\n🔎 Cán bộ sẽ xem thêm một số điểm và liên hệ với bạn."
        return [self._document_reply(draft, text)]

    def _document_reply(self, draft: Draft, text: str) -> Reply:
        centre = self.services.settings.centre_name
        data = S.document_data(draft)
        content = build_request_docx(data, centre_name=centre)
        return Reply(
            text,
            document=Document(
                filename_for(data),
                content,
                caption=f"Đơn đề nghị hỗ trợ kinh phí khuyến công — hồ sơ #{draft.id}",
                mime_type=DOCX_MIME,
            ),
            buttons=[
                [_b("📂 Hồ sơ của tôi", "mine")],
                [button("🏠 Menu", "menu", "home")],
            ],
        )

    # --- helpers -----------------------------------------------------------------------

    def _a(self, ctx: Context) -> dict[str, Any]:
        answers = ctx.state.data.get("a")
        return dict(answers) if isinstance(answers, dict) else {}

    def _first_missing(self, ctx: Context) -> str | None:
        a = self._a(ctx)
        for step in S.STEP_IDS:
            if not _answered(a, step):
                return step
        return None

    async def _draft(self, ctx: Context) -> Draft | None:
        draft_id = ctx.state.data.get("draft_id")
        if not isinstance(draft_id, int):
            return None
        draft = await DraftRepo(ctx.session).get(draft_id)
        if draft is None or draft.user_id != ctx.user.id or draft.status != "in_progress":
            return None
        return draft

    def _save(self, ctx: Context, draft: Draft) -> None:
        a = self._a(ctx)
        fields = S.draft_fields(a, self.services.settings.centre_name)
        fields["step"] = ctx.state.step
        DraftRepo(ctx.session).update(draft, a, fields)

    def _lost(self, ctx: Context) -> list[Reply]:
        ctx.finish()
        return [
            Reply(
                LOST,
                buttons=[
                    [_b("📝 Tạo hồ sơ", "open")],
                    [_b("📂 Hồ sơ của tôi", "mine")],
                ],
            )
        ]

    @staticmethod
    def _actor(ctx: Context) -> str:
        return f"owner:{ctx.incoming.channel}:{ctx.incoming.chat_id}"


def _local_date(moment: Any) -> str:
    from zoneinfo import ZoneInfo

    if moment is None:
        return ""
    return str(moment.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%d/%m/%Y"))


def feature(services: Services) -> Feature:
    return IntakeFeature(services)
