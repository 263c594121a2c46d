"""Guided intake: a facility owner's chat becomes a draft support application and a DOCX.

The dialogue is a form (``handlers.forms``) whose steps are declared in
``handlers.intake.steps``: support content → kind of facility (eligibility) → sector →
province → commune (location test) → facility name → registration/tax number (optional)
→ owner → phone → products → workers → plan → cost → counterpart funds → expected results
→ summary (confirm or edit any field) → saved draft and the filled request document.

The engine owns back, skip, keep, quit, the summary's edit-one-field, typed answers at
button steps and questions typed mid-dialogue. This module adds what is the intake's own:
the draft row, province and commune candidates, eligibility, estimates, the document.

Every answer is kept in ``ctx.state.data["a"]`` *and* in the user's draft row with status
``in_progress`` (same transaction), so quitting, hours of silence or a restart lose nothing:
"Tạo hồ sơ" then offers "tiếp tục hay làm lại". Payloads: ``intake:<action>[:<arg>]``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.types import Button, Document, Reply
from db.models.drafts import Draft
from db.repos.drafts import DraftRepo
from handlers.base import Context, Feature, Services, button, consent_gate
from handlers.forms import Answers, Form, FormFeature, Step
from handlers.forms.engine import BACK, TO_SUMMARY
from handlers.forms.words import YES, is_quit
from handlers.intake import steps as S
from handlers.intake.document import DOCX_MIME, addressee, build_request_docx, filename_for
from handlers.intake.parse import Invalid, clean_text
from knowledge import places
from knowledge.formats import date_text
from knowledge.normalize import fold_key
from knowledge.places import in_sentence
from knowledge.support import catalogue

log = logging.getLogger(__name__)

NAME = "intake"
# The entries that lead to storing personal data: the consent notice comes first.
GATED = ("open", "resume", "restart")
NOTES = "ℹ️ Lưu ý về ước tính"

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
CHOOSE = S.CHOOSE
CAVEAT_LINE = "Số tiền chỉ là ước tính; Trung tâm và quy định hiện hành của tỉnh quyết định."
NAME_TIP = "Mẹo: gõ có dấu để đơn in ra đúng tên (ví dụ: Nguyễn Văn Hùng)."
EXITED = "Đã dừng. Những gì bạn đã trả lời vẫn được lưu: bấm «📝 Tạo hồ sơ» khi muốn làm tiếp."
# Which answer key shows that a step was answered.
ANSWER_KEY = {"province": "province_code", "commune": "commune_code"}

FORM = Form(name=NAME, steps=tuple(S.STEPS), summary=True, quit_text=EXITED)


def _b(label: str, action: str, arg: str = "") -> Button:
    return button(label, NAME, action, arg)


def _answered(answers: Answers, step: str) -> bool:
    key = ANSWER_KEY.get(step, step)
    if step == "reg_no":
        return key in answers
    return answers.get(key) not in (None, "")


class IntakeFeature(FormFeature):
    form = FORM
    name = NAME
    commands = {"hoso": "Hồ sơ của tôi"}

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services

    # --- entry points ------------------------------------------------------------------

    async def on_command(self, ctx: Context, command: str, args: str) -> list[Reply]:
        if command == "hoso":
            return await self.my_drafts(ctx)
        return await ctx.router.unknown_command(ctx)

    async def on_button(self, ctx: Context, action: str, arg: str) -> list[Reply]:
        if action in GATED or self.in_form(ctx):
            # Nothing personal is kept before the owner agrees to the data notice.
            notice = await consent_gate(ctx, f"{NAME}:{action if action in GATED else 'open'}")
            if notice is not None:
                return notice
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
        if not self.in_form(ctx):
            return await ctx.router.stale_button(ctx)
        stop = await self.guard(ctx)
        if stop is not None:
            return stop
        step = ctx.state.step
        if action == "prov" and step == "province":
            return await self._choose_province(ctx, arg)
        if action == "com" and step == "commune":
            return await self._choose_commune(ctx, arg)
        if action == "pc" and step == "province":
            return await self._choose_province_and_commune(ctx, arg)
        if action == "retype" and step in S.BY_ID:
            ctx.state.data.pop("cands", None)
            return self.question(ctx, step)
        if action == "pick" and step == "sector" and arg == "sector:other":
            return [Reply("Bạn gõ tên ngành nghề của cơ sở nhé. Ví dụ: chế biến gỗ")]
        if action == "notes" and step == "summary":
            return [self._notes(ctx)]
        return await self.form_button(ctx, action, arg)

    async def on_text(self, ctx: Context) -> list[Reply]:
        notice = await consent_gate(ctx, f"{NAME}:resume")
        if notice is not None:  # a draft begun before the notice existed, or consent withdrawn
            return notice
        if ctx.state.dialogue == NAME and ctx.state.step == "resume":
            if is_quit(ctx.text):
                return self.quit(ctx)
            return [Reply(CHOOSE), *await self.reprompt(ctx)]
        return await super().on_text(ctx)

    async def reprompt(self, ctx: Context) -> list[Reply]:
        if ctx.state.step == "resume":
            done = sum(1 for s in S.STEP_IDS if _answered(self.answers(ctx), s))
            return [self._resume_question(done)]
        return await super().reprompt(ctx)

    # --- the form's hooks --------------------------------------------------------------

    async def guard(self, ctx: Context) -> list[Reply] | None:
        draft = await self._draft(ctx)
        if draft is None:
            return self._lost(ctx)
        ctx.scratch["draft"] = draft
        return None

    def saved(self, ctx: Context) -> None:
        ctx.state.data.pop("cands", None)
        draft = ctx.scratch.get("draft")
        if isinstance(draft, Draft):
            self._save(ctx, draft)

    def is_answered(self, answers: Answers, step: Step) -> bool:
        return _answered(answers, step.id)

    def current_text(self, ctx: Context, step: Step) -> str | None:
        return S.display(self.answers(ctx), step.id)

    async def read(self, ctx: Context, step: Step, text: str) -> list[Reply] | None:
        try:
            if step.id == "province":
                return self._province_candidates(ctx, text)
            if step.id == "commune":
                return self._commune_candidates(ctx, text)
        except Invalid as exc:
            return [Reply(str(exc)), *self.question(ctx, step.id)]
        return None

    async def answered(self, ctx: Context, step: Step) -> tuple[list[Reply], list[Reply] | None]:
        a = self.answers(ctx)
        notes: list[Reply] = []
        value = a.get(step.id)
        if (
            step.id in ("facility_name", "owner_name")
            and isinstance(value, str)
            and not ctx.state.data.get("tipped")
            and not re.search(r"[À-ỹ]", value)  # typed without any diacritics
        ):
            ctx.state.data["tipped"] = True
            notes.append(Reply(NAME_TIP))
        reason = S.ineligible(a)
        if reason is not None and step.id in ("kind", "support"):
            return notes, [self._blocked(ctx, reason)]
        if step.id == "commune" and a.get("province_code") and a.get("commune_code"):
            check = places.location_test(a["province_code"], a["commune_code"])
            if not check.ok:
                notes.append(Reply(f"ℹ️ {check.note} Mình vẫn ghi tiếp hồ sơ để cán bộ xem."))
        if step.id == "cost":
            line = S.estimate_line(a, self.services.settings.centre_name)
            if line is not None:
                notes.append(Reply(f"💡 {line}"))
            counterpart = a.get("counterpart")
            if isinstance(counterpart, int) and counterpart > a["cost"]:
                self.queue_next(ctx, "counterpart")
        return notes, None

    async def finished(self, ctx: Context) -> list[Reply]:
        """Confirmed at the summary: the draft is saved and its request sent."""
        draft = ctx.scratch.get("draft")
        if not isinstance(draft, Draft):
            return self._lost(ctx)
        a = self.answers(ctx)
        reason = S.ineligible(a)
        if reason is not None:
            return [self._blocked(ctx, reason)]
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
        reply = self._document_reply(draft, text)
        staff: Any = ctx.router.get("staff")  # staff are told of it (their digest)
        if getattr(staff, "draft_confirmed", None) is not None:
            await staff.draft_confirmed(ctx, draft, reply.document)
        return [reply]

    def quit_replies(self, ctx: Context) -> list[Reply]:
        """Leave the intake; the draft stays in progress with every answer given."""
        return [
            Reply(
                EXITED,
                buttons=[
                    [_b("📝 Tạo hồ sơ", "open")],
                    [button("🏠 Menu", "menu", "home")],
                ],
            )
        ]

    def question(self, ctx: Context, step_id: str) -> list[Reply]:
        step = S.BY_ID[step_id]
        if step_id == "phone" and ctx.capabilities.request_phone:
            # A share-contact button and other buttons can't share one message (Telegram
            # shows one keyboard per message): the other buttons go on a second message.
            rows = self.step_buttons(ctx, step)
            second = "Hoặc bấm:" if rows else "Cần sửa câu trước thì bấm:"
            return [
                Reply(self.question_text(ctx, step), request_phone=True),
                Reply(second, buttons=[*rows, self.nav_row(ctx, step)]),
            ]
        return super().question(ctx, step_id)

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
        return self._begin_draft(ctx, draft)

    def _begin_draft(self, ctx: Context, draft: Draft) -> list[Reply]:
        ctx.scratch["draft"] = draft
        ctx.start(NAME, "support", {"draft_id": draft.id, "a": {}})
        return [Reply(INTRO.format(n=S.TOTAL)), *self.goto(ctx, "support")]

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
        ctx.scratch["draft"] = draft
        answers = dict(draft.answers or {})
        ctx.start(NAME, "support", {"draft_id": draft.id, "a": answers})
        step = draft.step if draft.step in (*S.STEP_IDS, "summary") else None
        step = step or self.first_missing(ctx) or "summary"
        return [Reply("Tiếp tục nhé 👍"), *self.goto(ctx, step)]

    async def restart(self, ctx: Context) -> list[Reply]:
        repo = DraftRepo(ctx.session)
        old = await repo.in_progress(ctx.user.id)
        if old is not None:
            await repo.set_status(
                old, "abandoned", actor=self._actor(ctx), note="Chủ cơ sở chọn làm lại từ đầu"
            )
        draft = await repo.start(ctx.user.id, ctx.incoming.channel, ctx.incoming.chat_id)
        return self._begin_draft(ctx, draft)

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
            when = date_text(d.confirmed_at or d.created_at)
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

    # --- province and commune: candidates to confirm -------------------------------------

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

    async def _choose_province_and_commune(self, ctx: Context, arg: str) -> list[Reply]:
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
        return await self.store(ctx, S.BY_ID["commune"], values)

    async def _choose_province(self, ctx: Context, arg: str) -> list[Reply]:
        province = places.province_by_code(int(arg)) if arg.isdigit() else None
        if province is None:
            return await ctx.router.stale_button(ctx)
        a = self.answers(ctx)
        values: dict[str, Any] = {
            "province_code": province.code,
            "province": province.name,
            "province_full": province.full_name,
        }
        if a.get("province_code") != province.code:
            values.update({"commune_code": None, "commune": None})
            self.queue_next(ctx, "commune")
        return await self.store(ctx, S.BY_ID["province"], values)

    def _commune_candidates(self, ctx: Context, text: str) -> list[Reply]:
        a = self.answers(ctx)
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

    async def _choose_commune(self, ctx: Context, arg: str) -> list[Reply]:
        commune = places.commune_by_code(int(arg)) if arg.isdigit() else None
        if commune is None or commune.province_code != self.answers(ctx).get("province_code"):
            return await ctx.router.stale_button(ctx)
        values = {"commune_code": commune.code, "commune": commune.name}
        return await self.store(ctx, S.BY_ID["commune"], values)

    def _blocked(self, ctx: Context, reason: str) -> Reply:
        ctx.state.step = "kind"
        self.saved(ctx)
        return Reply(
            f"😔 {reason}\nBạn có thể hỏi cán bộ Trung tâm để được hướng dẫn.",
            buttons=[
                [button("☎️ Liên hệ cán bộ", "menu", "contact")],
                [_b("🔁 Chọn lại loại hình", "retype")],
                [button("🏠 Menu", "menu", "home")],
            ],
        )

    # --- summary and document ------------------------------------------------------------

    def summary_reply(self, ctx: Context) -> Reply:
        a = self.answers(ctx)
        centre = self.services.settings.centre_name
        lines = ["📋 Xem lại hồ sơ của bạn:"]
        for i, step in enumerate(S.STEPS, 1):
            lines.append(f"{i}. {step.label}: {S.display(a, step.id)}")
        line = S.estimate_line(a, centre)
        if line is not None:
            lines += ["", f"💰 {line}", f"ℹ️ {CAVEAT_LINE}"]
        lines += ["", "Đúng hết thì bấm «Xác nhận»; cần sửa thì bấm «Sửa một mục»."]
        return Reply("\n".join(lines), buttons=self.summary_buttons(a))

    def summary_buttons(self, a: Answers) -> list[list[Button]]:
        rows = [[_b("✅ Xác nhận, lưu hồ sơ", "confirm")], [_b("✏️ Sửa một mục", "edit")]]
        if S.estimate_for(a, self.services.settings.centre_name) is not None or S.review_notes(a):
            rows.append([_b(NOTES, "notes")])
        return [*rows, [_b(BACK, "back")]]

    def _notes(self, ctx: Context) -> Reply:
        """The longer caveats behind «ℹ️ Lưu ý về ước tính», with the summary's buttons."""
        a = self.answers(ctx)
        est = S.estimate_for(a, self.services.settings.centre_name)
        lines = [f"ℹ️ {est.caveat}"] if est is not None else []
        notes = S.review_notes(a)
        if notes:
            lines += ["", "🔎 Cán bộ sẽ kiểm tra thêm:"] + [f"• {n}" for n in notes]
        if not lines:
            lines = [f"ℹ️ {CAVEAT_LINE}"]
        rows = [r for r in self.summary_buttons(a) if r[0].payload != "intake:notes"]
        rows[-1] = [_b(TO_SUMMARY, "summary")]
        return Reply("\n".join(lines).strip(), buttons=rows)

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

    async def _draft(self, ctx: Context) -> Draft | None:
        draft_id = ctx.state.data.get("draft_id")
        if not isinstance(draft_id, int):
            return None
        draft = await DraftRepo(ctx.session).get(draft_id)
        if draft is None or draft.user_id != ctx.user.id or draft.status != "in_progress":
            return None
        return draft

    def _save(self, ctx: Context, draft: Draft) -> None:
        a = self.answers(ctx)
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


def feature(services: Services) -> Feature:
    return IntakeFeature(services)
