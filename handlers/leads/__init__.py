"""Collaborators' leads (giới thiệu cơ sở), on the form engine: a facility that could apply,
with its owner's contact and need, registered by a collaborator (cộng tác viên) in the field.

Duplicates are refused before anything is saved: the same (normalised) phone, or a name
close to a lead's of the same commune (rapidfuzz). The collaborator confirms the facility
agreed to be contacted; staff are told in their chats; «Cơ sở tôi đã giới thiệu» shows the
statuses; a lead whose phone later appears on a confirmed draft is linked and marked.
"""

from __future__ import annotations

import re
from typing import Any

from rapidfuzz import fuzz

from bot.types import Button, Reply
from db.models.handoff import Lead
from db.repos.handoff import LeadRepo, is_staff, staff_chats
from db.repos.outbox import NewMessage, OutboxRepo
from db.repos.privacy import AuditRepo
from handlers.base import Context, Feature, Services, button
from handlers.forms import Answers, Choice, Form, FormFeature, Hint, Step
from knowledge import places
from knowledge.formats import date_text
from knowledge.normalize import fold_key
from knowledge.phones import vn_phone
from knowledge.support import catalogue
from knowledge.vocabulary import vocabulary

NAME = "leads"
ROLES = ("collaborator", "staff", "admin")
STATUS_LABELS = {
    "new": "mới",
    "contacted": "đã liên hệ",
    "applied": "đã nộp hồ sơ",
    "ineligible": "chưa đủ điều kiện",
}
# Name similarity (0-100, token set ratio of folded names) for one facility in one commune.
SAME_NAME = 88
NOT_ALLOWED = "Mục này dành cho cộng tác viên khuyến công."
DUPLICATE = (
    "Cơ sở này đã được giới thiệu ngày {day} (#{id}: {name}, {commune}). "
    "Mình không lưu lại lần nữa."
)
SAVED = (
    "✅ Đã lưu cơ sở #{id}: {name}. Cán bộ Trung tâm đã được báo và sẽ liên hệ cơ sở. Cảm ơn bạn!"
)
NO_CONSENT = (
    "Mình chỉ lưu khi cơ sở đã đồng ý để cán bộ liên hệ. Bạn hỏi ý cơ sở trước, "
    "rồi giới thiệu lại nhé."
)
MINE_EMPTY = "Bạn chưa giới thiệu cơ sở nào."
CONSENT_YES = "yes"
_GENERIC = ("co so", "cong ty", "hop tac xa", "htx", "ho kinh doanh", "doanh nghiep", "tnhh")


def name_key(name: str) -> str:
    """A facility name for comparison: folded, without «cơ sở», «công ty», «HTX»…"""
    key = f" {fold_key(name)} "
    for word in _GENERIC:
        key = key.replace(f" {word} ", " ")
    return " ".join(key.split())


def _text(what: str, limit: int, example: str) -> Any:
    def read(text: str, a: Answers) -> str:
        value = " ".join(text.split())
        if len(fold_key(value).replace(" ", "")) < 2:
            raise Hint(f"Bạn gõ {what} nhé. Ví dụ: {example}")
        if len(value) > limit:
            raise Hint(f"{what[:1].upper()}{what[1:]} dài quá (tối đa {limit} ký tự).")
        return value

    return read


def _read_owner(text: str, a: Answers) -> str:
    value: str = _text("họ tên chủ cơ sở", 100, "Nguyễn Văn An")(text, a)
    if re.search(r"\d", value):
        raise Hint("Họ tên không có chữ số. Ví dụ: Nguyễn Văn An")
    return value


def _read_phone(text: str, a: Answers) -> str:
    phone = vn_phone(text)
    if phone is None:
        raise Hint("Số điện thoại chưa đúng (số di động Việt Nam có 10 số). Ví dụ: 0912 345 678")
    return phone


def _sector_choices(ctx: Context, a: Answers) -> list[Choice]:
    return [Choice(t.key, t.label) for t in vocabulary().sectors]


def _support_choices(ctx: Context, a: Answers) -> list[Choice]:
    return [Choice(t.id, t.button) for t in catalogue().types.values()]


def _commune_question(ctx: Context, a: Answers) -> str:
    where = places.in_sentence(str(a["province"])) if a.get("province") else ""
    return f"Cơ sở ở xã, phường hay đặc khu nào{' của ' + where if where else ''}?"


FORM = Form(
    NAME,
    (
        Step(
            "facility_name",
            "Tên cơ sở được giới thiệu?",
            label="Tên cơ sở",
            example="Cơ sở mộc Minh Phát",
            parse=_text("tên cơ sở", 200, "Cơ sở mộc Minh Phát"),
            free_text=True,
        ),
        Step(
            "owner_name",
            "Họ tên chủ cơ sở?",
            label="Chủ cơ sở",
            example="Nguyễn Văn An",
            parse=_read_owner,
            free_text=True,
        ),
        Step(
            "phone",
            "Số điện thoại di động của chủ cơ sở?",
            label="Điện thoại",
            example="0912 345 678",
            parse=_read_phone,
        ),
        Step(
            "province",
            "Cơ sở ở tỉnh/thành phố nào? (34 tỉnh, thành từ 1/7/2025 — tên cũ cũng được)",
            label="Tỉnh/thành phố",
            example="Quảng Ngãi",
            free_text=True,
        ),
        Step(
            "commune", _commune_question, label="Xã/phường", example="xã Nghĩa Hành", free_text=True
        ),
        Step(
            "sector",
            "Cơ sở sản xuất ngành nghề gì?",
            label="Ngành nghề",
            choices=_sector_choices,
        ),
        Step(
            "support",
            "Cơ sở cần hỗ trợ nội dung gì?",
            label="Cần hỗ trợ",
            choices=_support_choices,
            columns=2,
        ),
        Step(
            "notes",
            "Ghi chú thêm cho cán bộ? (không bắt buộc)",
            label="Ghi chú",
            example="chủ cơ sở rảnh buổi chiều",
            parse=_text("ghi chú", 1000, "chủ cơ sở rảnh buổi chiều"),
            skippable=True,
            free_text=True,
        ),
        Step(
            "consent",
            "Chủ cơ sở đã đồng ý để cán bộ Trung tâm liên hệ chưa?",
            label="Cơ sở đồng ý được liên hệ",
            choices=(
                Choice(CONSENT_YES, "✅ Đã đồng ý", words=("roi", "dong y", "co", "da dong y")),
                Choice("no", "❌ Chưa hỏi / chưa đồng ý", words=("chua", "khong", "chua hoi")),
            ),
        ),
    ),
    summary=True,
    quit_text="Đã dừng, chưa lưu gì.",
)


class LeadsFeature(FormFeature):
    form = FORM
    name = NAME

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services

    # --- what other features call -------------------------------------------------------

    async def count_open(self, ctx: Context) -> int:
        return await LeadRepo(ctx.session).count_open()

    # --- entry points ---------------------------------------------------------------------

    async def _allowed(self, ctx: Context) -> bool:
        from db.repos.core import UserRepo

        user = await UserRepo(ctx.session).get(ctx.incoming.channel, ctx.incoming.chat_id)
        return user is not None and user.role in ROLES

    async def on_button(self, ctx: Context, action: str, arg: str) -> list[Reply]:
        if action in ("new", "open", "mine", "list") and not await self._allowed(ctx):
            return [Reply(NOT_ALLOWED, buttons=[[button("🏠 Menu", "menu", "home")]])]
        if action in ("new", "open"):
            return self.begin(ctx)
        if action == "mine":
            return [await self._mine(ctx)]
        if action == "list":
            return [await self._list(ctx)]
        if action == "prov" and self.in_form(ctx) and ctx.state.step == "province":
            return await self._choose_province(ctx, arg)
        if action == "com" and self.in_form(ctx) and ctx.state.step == "commune":
            return await self._choose_commune(ctx, arg)
        return await self.form_button(ctx, action, arg)

    async def guard(self, ctx: Context) -> list[Reply] | None:
        if not await self._allowed(ctx):
            ctx.finish()
            return [Reply(NOT_ALLOWED)]
        return None

    # --- province and commune (the intake's way: candidates to tap) ----------------------

    async def read(self, ctx: Context, step: Step, text: str) -> list[Reply] | None:
        if step.id == "province":
            matches = places.match_province(text[:100])
            if not matches:
                return [
                    Reply(f"Mình không tìm thấy tỉnh/thành phố «{text[:40]}». Ví dụ: Quảng Ngãi."),
                    *self.question(ctx, step.id),
                ]
            rows = [[self.b(f"📍 {m.name}", "prov", str(m.code))] for m in matches]
            rows.append([self.b("⬅️ Quay lại", "back")])
            return [Reply("Bạn chọn đúng tỉnh/thành phố:", buttons=rows)]
        if step.id == "commune":
            code = self.answers(ctx).get("province_code")
            if not isinstance(code, int):
                return self.goto(ctx, "province")
            matches = places.match_commune(code, text[:100])
            if not matches:
                return [
                    Reply(
                        f"Mình không tìm thấy «{text[:40]}». Ví dụ: {places.example_commune(code)}."
                    ),
                    *self.question(ctx, step.id),
                ]
            rows = [[self.b(f"📍 {m.name}", "com", str(m.code))] for m in matches]
            rows.append([self.b("⬅️ Quay lại", "back")])
            return [Reply("Bạn chọn đúng xã/phường:", buttons=rows)]
        return None

    async def _choose_province(self, ctx: Context, arg: str) -> list[Reply]:
        province = places.province_by_code(int(arg)) if arg.isdigit() else None
        if province is None:
            return await ctx.router.stale_button(ctx)
        values: dict[str, Any] = {"province": province.name, "province_code": province.code}
        if self.answers(ctx).get("province_code") != province.code:
            values.update({"commune": None, "commune_code": None})
            self.queue_next(ctx, "commune")
        return await self.store(ctx, self.form.by_id["province"], values)

    async def _choose_commune(self, ctx: Context, arg: str) -> list[Reply]:
        commune = places.commune_by_code(int(arg)) if arg.isdigit() else None
        if commune is None or commune.province_code != self.answers(ctx).get("province_code"):
            return await ctx.router.stale_button(ctx)
        values = {"commune": commune.name, "commune_code": commune.code}
        return await self.store(ctx, self.form.by_id["commune"], values)

    def current_text(self, ctx: Context, step: Step) -> str | None:
        a = self.answers(ctx)
        value = a.get(step.id)
        if step.id in ("sector", "support", "consent"):
            for choice in step.choices_for(ctx, a):
                if choice.stored == value:
                    return choice.label
        if step.id == "notes" and value == "":
            return "—"
        return None if value in (None, "") else str(value)

    # --- duplicates -----------------------------------------------------------------------

    async def duplicate(self, ctx: Context, a: Answers) -> Lead | None:
        repo = LeadRepo(ctx.session)
        if a.get("phone"):
            same = await repo.by_phone(str(a["phone"]))
            if same is not None:
                return same
        if a.get("facility_name") and isinstance(a.get("commune_code"), int):
            key = name_key(str(a["facility_name"]))
            for lead in await repo.in_commune(int(a["commune_code"])):
                if key and fuzz.token_set_ratio(key, lead.name_key) >= SAME_NAME:
                    return lead
        return None

    def _duplicate_reply(self, ctx: Context, lead: Lead) -> list[Reply]:
        ctx.finish()
        text = DUPLICATE.format(
            day=date_text(lead.created_at),
            id=lead.id,
            name=lead.facility_name,
            commune=lead.commune,
        )
        return [Reply(text, buttons=self._home_rows())]

    def _home_rows(self) -> list[list[Button]]:
        return [
            [self.b("📋 Cơ sở tôi đã giới thiệu", "mine")],
            [self.b("➕ Giới thiệu cơ sở khác", "new")],
            [button("🏠 Menu", "menu", "home")],
        ]

    async def answered(self, ctx: Context, step: Step) -> tuple[list[Reply], list[Reply] | None]:
        if step.id in ("phone", "commune"):
            same = await self.duplicate(ctx, self.answers(ctx))
            if same is not None:
                return [], self._duplicate_reply(ctx, same)
        if step.id == "consent" and self.answers(ctx).get("consent") != CONSENT_YES:
            ctx.finish()
            return [], [Reply(NO_CONSENT, buttons=self._home_rows())]
        return [], None

    # --- saving ---------------------------------------------------------------------------

    async def finished(self, ctx: Context) -> list[Reply]:
        a = self.answers(ctx)
        if a.get("consent") != CONSENT_YES:
            ctx.finish()
            return [Reply(NO_CONSENT, buttons=self._home_rows())]
        same = await self.duplicate(ctx, a)
        if same is not None:
            return self._duplicate_reply(ctx, same)
        now = ctx.services.now()
        lead = await LeadRepo(ctx.session).add(
            channel=ctx.incoming.channel,
            chat_id=ctx.incoming.chat_id,
            collaborator=ctx.incoming.display_name or ctx.user.display_name,
            facility_name=str(a["facility_name"]),
            name_key=name_key(str(a["facility_name"]))[:200],
            owner_name=str(a["owner_name"]),
            phone=str(a["phone"]),
            province=str(a["province"]),
            province_code=int(a["province_code"]),
            commune=str(a["commune"]),
            commune_code=int(a["commune_code"]),
            sector=str(a["sector"]),
            support=str(a["support"]),
            notes=str(a.get("notes") or ""),
            consent=True,
            status="new",
            created_at=now,
            updated_at=now,
        )
        await AuditRepo(ctx.session).record(
            actor=f"user:{ctx.user.id}", action="lead.add", subject=f"lead:{lead.id}", now=now
        )
        await self._notify_staff(ctx, lead)
        ctx.finish()
        return [Reply(SAVED.format(id=lead.id, name=lead.facility_name), buttons=self._home_rows())]

    async def _notify_staff(self, ctx: Context, lead: Lead) -> None:
        staff: Any = ctx.router.get("staff")
        if staff is not None:
            # In the staff digest: working hours, at most one message per 10 minutes.
            await staff.notify_staff(ctx, "lead", lead.id, lead_text(lead))
            return
        now = ctx.services.now()
        rows = [[["👥 Cơ sở được giới thiệu", f"{NAME}:list"]]]
        messages = [
            NewMessage(f"lead:{lead.id}:new", s.channel, s.chat_id, lead_text(lead), rows, now)
            for s in await staff_chats(ctx.session)
        ]
        await OutboxRepo(ctx.session).enqueue_many(messages, now)

    # --- lists ----------------------------------------------------------------------------

    async def _mine(self, ctx: Context) -> Reply:
        repo = LeadRepo(ctx.session)
        await repo.link_drafts()
        leads = await repo.of_collaborator(ctx.incoming.channel, ctx.incoming.chat_id)
        if not leads:
            return Reply(MINE_EMPTY, buttons=self._home_rows()[1:])
        lines = ["📋 Cơ sở tôi đã giới thiệu:"]
        for lead in leads:
            lines.append(
                f"#{lead.id} {lead.facility_name} ({lead.commune}) — "
                f"{STATUS_LABELS.get(lead.status, lead.status)}, {date_text(lead.created_at)}"
            )
        return Reply("\n".join(lines), buttons=self._home_rows()[1:])

    async def _list(self, ctx: Context) -> Reply:
        if not await is_staff(ctx.session, ctx.incoming.channel, ctx.incoming.chat_id):
            return await self._mine(ctx)
        repo = LeadRepo(ctx.session)
        await repo.link_drafts()
        # The ten newest still «mới», oldest of them first.
        leads = list(reversed(await repo.page(LeadRepo.where(status="new"), 0, 10)))
        if not leads:
            return Reply(
                "Không có cơ sở mới được giới thiệu.", buttons=[[button("🏠 Menu", "menu", "home")]]
            )
        text = "\n\n".join(lead_text(lead) for lead in leads)
        return Reply(
            f"👥 Cơ sở mới được giới thiệu ({len(leads)}):\n\n{text}",
            buttons=[[button("🏠 Menu", "menu", "home")]],
        )


def lead_text(lead: Lead) -> str:
    sector = next((t.label for t in vocabulary().sectors if t.key == lead.sector), lead.sector)
    support = catalogue().types.get(lead.support)
    lines = [
        f"👥 Cơ sở #{lead.id}: {lead.facility_name} — {lead.commune}, {lead.province}",
        f"Chủ cơ sở: {lead.owner_name}, 📞 {lead.phone}",
        f"Ngành: {sector}; cần: {support.label if support else lead.support}",
    ]
    if lead.notes:
        lines.append(f"Ghi chú: {lead.notes[:300]}")
    lines.append(
        f"Người giới thiệu: {lead.collaborator or 'cộng tác viên'}, {date_text(lead.created_at)}"
    )
    return "\n".join(lines)


def feature(services: Services) -> Feature:
    return LeadsFeature(services)
