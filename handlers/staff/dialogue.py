"""Staff in the chat: their menu, invite codes, announcements (a form), new drafts.

The announcement form: text → button → provinces → sectors → kinds → group → when →
preview exactly as recipients see it, with the live count of recipients per channel →
confirm. Only staff and admin may open it; everyone else gets one polite line.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.types import Button, Document, Reply
from db.repos.staff import BroadcastRepo, NoticeRepo, new_drafts
from handlers.base import Context, Feature, Services, button
from handlers.forms import Answers, Choice, Form, FormFeature, Hint, Step
from handlers.forms.engine import SUMMARY
from handlers.staff import broadcast as B
from handlers.staff import roles as R
from knowledge.formats import LOCAL_TZ, date_text, datetime_text, money_words
from knowledge.vocabulary import vocabulary

NAME = "staff"

STAFF_MENU = "🧑‍💼 Menu cán bộ. Bạn cần làm gì?"
ASK_TEXT = (
    "Gõ nội dung thông báo (tối đa {limit} ký tự). Tin dài hơn giới hạn của một kênh "
    "sẽ được chia thành nhiều tin."
)
ASK_BUTTON = "Thêm một nút dưới thông báo?"
ASK_PROVINCES = (
    "Gửi cho cơ sở ở tỉnh/thành nào? Gõ tên tỉnh (nhiều tỉnh cách nhau dấu phẩy; "
    "tên cũ cũng được) hoặc chọn «Mọi tỉnh»."
)
ASK_SECTORS = "Ngành nghề? Bấm để chọn (không chọn = mọi ngành), xong bấm «✅ Tiếp»."
ASK_KINDS = "Loại hình cơ sở? Bấm để chọn (không chọn = mọi loại), xong bấm «✅ Tiếp»."
ASK_GROUP = "Nhóm người nhận?"
ASK_WHEN = (
    "Gửi khi nào? Bấm «Gửi ngay» hoặc gõ ngày giờ (vd: 15/12/2026 08:00). "
    "Thông báo chỉ gửi trong khung {window}."
)
QUIT = "Đã dừng, chưa gửi thông báo nào."
QUEUED = (
    "📣 Đã xếp hàng thông báo #{id} cho {count} người nhận, gửi từ {when}.\n"
    "Mình sẽ báo tiến độ ở đây (25%, 50%, 75%, 100%)."
)
NOBODY = "Không có ai thuộc nhóm này nên chưa gửi. Bạn chọn lại người nhận nhé."


def _read_text(text: str, a: Answers) -> str:
    text = text.strip()
    if len(text) < 5:
        raise Hint("Nội dung quá ngắn. Bạn gõ đầy đủ nội dung thông báo nhé.")
    if len(text) > B.MAX_TEXT:
        raise Hint(f"Nội dung dài {len(text)} ký tự, tối đa {B.MAX_TEXT}. Bạn rút gọn giúp mình.")
    return text


def _read_provinces(text: str, a: Answers) -> list[int]:
    codes: list[int] = []
    for part in text.replace(";", ",").split(","):
        if not part.strip():
            continue
        code = B.province_code(part)
        if code is None:
            raise Hint(f"Mình chưa nhận ra tỉnh «{part.strip()[:40]}». Bạn gõ lại tên tỉnh nhé.")
        if code not in codes:
            codes.append(code)
    if not codes:
        raise Hint("Bạn gõ tên tỉnh hoặc chọn «Mọi tỉnh» nhé.")
    return codes


def _read_when(text: str, a: Answers) -> str:
    for fmt in ("%d/%m/%Y %H:%M", "%d/%m/%Y %Hh%M", "%d/%m/%Y %Hh", "%d/%m/%Y"):
        try:
            local = datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
        if fmt == "%d/%m/%Y":
            local = local.replace(hour=8)
        return local.replace(tzinfo=LOCAL_TZ).astimezone(UTC).isoformat()
    raise Hint("Mình chưa đọc được ngày giờ. Bạn gõ như 15/12/2026 08:00 nhé.")


def _button_choices(ctx: Context, a: Answers) -> list[Choice]:
    rows = [Choice("none", "Không cần nút", "")]
    rows += [Choice(key, label, key) for key, (label, _p) in B.BUTTONS.items()]
    return rows


def _province_choices(ctx: Context, a: Answers) -> list[Choice]:
    return [Choice("all", "🇻🇳 Mọi tỉnh", (), words=("ca nuoc", "tat ca", "moi tinh"))]


def _sector_choices(ctx: Context, a: Answers) -> list[Choice]:
    return [Choice(t.key, t.label, words=t.words) for t in vocabulary().sectors]


def _kind_choices(ctx: Context, a: Answers) -> list[Choice]:
    return [Choice(k, label) for k, label in B.FACILITY_KINDS.items()]


GROUPS = {
    "all": "Mọi người",
    "subs": "Người bật nhắc lịch",
    "collab": "Cộng tác viên",
    **{f"d_{k}": f"Có hồ sơ «{label}»" for k, label in B.DRAFT_STATUSES.items()},
}


def _group_choices(ctx: Context, a: Answers) -> list[Choice]:
    return [Choice(k, label) for k, label in GROUPS.items()]


def _when_choices(ctx: Context, a: Answers) -> list[Choice]:
    return [Choice("now", "🚀 Gửi ngay", "")]


def audience_of(a: Answers) -> B.Audience:
    group = str(a.get("group") or "all")
    return B.Audience(
        provinces=[int(c) for c in a.get("provinces") or []],
        sectors=list(a.get("sectors") or []),
        kinds=list(a.get("kinds") or []),
        statuses=[group[2:]] if group.startswith("d_") else [],
        subscribers=group == "subs",
        collaborators=group == "collab",
    )


def _done(label: str) -> Any:
    return lambda ctx, a: "✅ Tiếp" + ("" if a.get(label) else " (tất cả)")


FORM = Form(
    name=NAME,
    numbering="{n}/{total}. ",
    summary=True,
    quit_text=QUIT,
    steps=(
        Step(
            "text",
            lambda ctx, a: ASK_TEXT.format(limit=B.MAX_TEXT),
            label="Nội dung",
            parse=_read_text,
        ),
        Step("button", ASK_BUTTON, label="Nút", choices=_button_choices),
        Step(
            "provinces",
            ASK_PROVINCES,
            label="Tỉnh",
            choices=_province_choices,
            parse=_read_provinces,
            hint="Bạn gõ tên tỉnh hoặc chọn «Mọi tỉnh» nhé.",
        ),
        Step(
            "sectors",
            ASK_SECTORS,
            label="Ngành",
            choices=_sector_choices,
            multi=True,
            done_label=_done("sectors"),
        ),
        Step(
            "kinds",
            ASK_KINDS,
            label="Loại hình",
            choices=_kind_choices,
            multi=True,
            done_label=_done("kinds"),
        ),
        Step("group", ASK_GROUP, label="Nhóm", choices=_group_choices),
        Step(
            "when",
            lambda ctx, a: ASK_WHEN.format(window=ctx.settings.send_window.replace("-", "–")),
            label="Thời gian",
            choices=_when_choices,
            parse=_read_when,
        ),
    ),
)

AUDIENCE_STEPS = {"provinces", "sectors", "kinds", "group"}


class StaffFeature(FormFeature):
    form = FORM
    name = NAME
    commands = {"thongbao": "Gửi thông báo (cán bộ)"}

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services

    # -- what other features call -----------------------------------------------------

    async def menu_rows(self, ctx: Context) -> list[list[Button]] | None:
        """The rows of this chat's menu for its role; None: the owner's menu as it is."""
        role = await R.role_of(ctx)
        if role in R.STAFF_ROLES:
            count, _ = await new_drafts(ctx.session, 0)
            tickets = await self._count(ctx, "tickets")
            leads = await self._count(ctx, "leads")
            return [
                [button("📣 Gửi thông báo", NAME, "bc")],
                [Button(f"🙋 Câu hỏi chờ trả lời{tickets}", "tickets:queue")],
                [button(f"📝 Hồ sơ mới ({count})", NAME, "drafts")],
                [Button(f"👥 Cơ sở được giới thiệu{leads}", "leads:list")],
                [button("📊 Thông báo đã gửi", NAME, "list")],
            ]
        if role == "collaborator":
            return [[Button("➕ Giới thiệu cơ sở", "leads:new")]]
        return None

    async def _count(self, ctx: Context, feature_name: str) -> str:
        feature = ctx.router.get(feature_name)
        count_open = getattr(feature, "count_open", None)
        if count_open is None:
            return ""
        try:
            return f" ({int(await count_open(ctx))})"
        except Exception:  # another feature's count must not break the menu
            return ""

    @staticmethod
    def looks_like_code(text: str) -> bool:
        return R.looks_like_code(text.strip())

    async def start_code(self, ctx: Context, code: str) -> list[Reply]:
        """``/start <code>`` or the code typed alone: the role, or why not."""
        result, text = await R.redeem(ctx, code, ctx.services.now())
        if result.outcome != "ok":
            return [Reply(text, buttons=[[button("🏠 Menu", "menu", "home")]])]
        rows = await self.menu_rows(ctx) or []
        return [Reply(text, buttons=[*rows, [button("🏠 Menu", "menu", "home")]])]

    async def draft_confirmed(self, ctx: Context, draft: Any, document: Document | None) -> None:
        """The intake saved a confirmed draft: staff hear of it (see ``notices``)."""
        cost = f" · {money_words(draft.estimated_cost)}" if draft.estimated_cost else ""
        text = (
            f"📝 Hồ sơ #{draft.id}: {draft.facility_name or 'cơ sở chưa đặt tên'}"
            f" · {draft.province or '—'}{cost}\n"
            f"Chủ cơ sở: {draft.owner_name or '—'} · {draft.phone or '—'}\n"
            f"Xác nhận lúc {datetime_text(ctx.services.now())}."
        )
        notices = NoticeRepo(ctx.session)
        await notices.add("draft", draft.id, text, ctx.services.now())
        if document is not None:
            rows = await notices.unsent()
            row = rows[-1]
            row.document = document.content
            row.document_name = document.filename

    async def notify_staff(self, ctx: Context, kind: str, ref_id: int, text: str) -> None:
        """Tell staff of something new (e.g. ``kind="lead"`` from the leads feature), in
        their next digest. ``text``: a short summary, its first line the digest's line."""
        await NoticeRepo(ctx.session).add(kind[:16], ref_id, text[:3000], ctx.services.now())

    async def tick(self, sessions: Any, now: datetime) -> int:
        """Background pass (the reminder scheduler's): announcements' progress, notices."""
        from handlers.staff.notices import flush

        async with sessions() as session, session.begin():
            queued = await B.tick(session, now)
            queued += await flush(session, now)
        return queued

    # -- entry points -----------------------------------------------------------------

    async def on_command(self, ctx: Context, command: str, args: str) -> list[Reply]:
        if command == "thongbao":
            return await self._compose(ctx)
        return await ctx.router.unknown_command(ctx)

    async def on_button(self, ctx: Context, action: str, arg: str) -> list[Reply]:
        staff_only = ("open", "bc", "cancel", "report", "list", "drafts")
        if action in staff_only and not await R.is_staff(ctx):
            return [Reply(R.REFUSED)]
        if action == "open":
            ctx.finish()
            return [Reply(STAFF_MENU, buttons=await self.menu_rows(ctx) or [])]
        if action == "bc":
            return await self._compose(ctx)
        if action == "cancel" and arg.isdigit():
            return await self._cancel(ctx, int(arg))
        if action == "report" and arg.isdigit():
            return await self._report(ctx, int(arg))
        if action == "list":
            return await self._list(ctx)
        if action == "drafts":
            return await self._drafts(ctx)
        return await self.form_button(ctx, action, arg)

    async def guard(self, ctx: Context) -> list[Reply] | None:
        if await R.is_staff(ctx):
            return None
        ctx.finish()
        return [Reply(R.REFUSED)]

    # -- the form's hooks -------------------------------------------------------------

    def is_answered(self, answers: Answers, step: Step) -> bool:
        return step.id in answers

    async def answered(self, ctx: Context, step: Step) -> tuple[list[Reply], list[Reply] | None]:
        if step.id not in AUDIENCE_STEPS and step.id != "when":
            return [], None
        counts = await B.count_by_channel(ctx.session, audience_of(self.answers(ctx)))
        ctx.state.data["counts"] = counts
        if step.id == "when":
            return [], None
        return [Reply(f"👥 Hiện có {B.counts_text(counts)}.")], None

    def current_text(self, ctx: Context, step: Step) -> str | None:
        a = self.answers(ctx)
        if step.id not in a:
            return None
        value = a[step.id]
        if step.id == "text":
            return f"{str(value)[:60]}…" if len(str(value)) > 60 else str(value)
        if step.id == "button":
            return B.BUTTONS[value][0] if value in B.BUTTONS else "không"
        if step.id == "when":
            return datetime_text(datetime.fromisoformat(value)) if value else "gửi ngay"
        if step.id == "group":
            return GROUPS.get(str(value), str(value))
        return (
            B.Audience(
                provinces=list(value) if step.id == "provinces" else [],
                sectors=list(value) if step.id == "sectors" else [],
                kinds=list(value) if step.id == "kinds" else [],
            )
            .describe()
            .replace("mọi người", "tất cả")
        )

    def goto(self, ctx: Context, step_id: str) -> list[Reply]:
        replies = super().goto(ctx, step_id)
        if step_id == SUMMARY:
            return [self._preview(ctx), *replies]
        return replies

    def _preview(self, ctx: Context) -> Reply:
        a = self.answers(ctx)
        rows = [
            [Button(label, payload) for label, payload in r] for r in B.buttons_for(a.get("button"))
        ]
        return Reply(str(a.get("text") or ""), buttons=rows)

    def summary_reply(self, ctx: Context) -> Reply:
        a = self.answers(ctx)
        counts = ctx.state.data.get("counts") or {}
        when = a.get("when")
        lines = [
            "👆 Người nhận sẽ thấy đúng như tin trên.",
            f"👥 Người nhận: {audience_of(a).describe()}",
            f"📊 {B.counts_text(counts)}",
            "🕗 "
            + (f"Gửi lúc {datetime_text(datetime.fromisoformat(when))}" if when else "Gửi ngay"),
        ]
        return Reply(
            "\n".join(lines),
            buttons=[
                [self.b("✅ Gửi thông báo", "confirm")],
                [self.b("✏️ Sửa một mục", "edit")],
                [self.b("✖️ Hủy", "exit")],
            ],
        )

    async def finished(self, ctx: Context) -> list[Reply]:
        a = self.answers(ctx)
        audience = audience_of(a)
        now = ctx.services.now()
        counts = await B.count_by_channel(ctx.session, audience)
        if not sum(counts.values()):
            ctx.state.data["counts"] = counts
            return [Reply(NOBODY), *self.goto(ctx, "provinces")]
        when = a.get("when")
        queued = await B.create(
            ctx.session,
            text=str(a["text"]),
            audience=audience,
            actor=await R.actor_of(ctx),
            now=now,
            window=B.parse_window(ctx.settings.send_window),
            button=a.get("button") or None,
            at=datetime.fromisoformat(when) if when else None,
            report_to=(ctx.incoming.channel, ctx.incoming.chat_id),
            rate=ctx.settings.outbox_rate,
        )
        ctx.finish()
        text = QUEUED.format(
            id=queued.broadcast.id, count=queued.count, when=datetime_text(queued.send_at)
        )
        return [
            Reply(
                text,
                buttons=[
                    [self.b("📊 Xem báo cáo", "report", str(queued.broadcast.id))],
                    [self.b("✖️ Dừng gửi", "cancel", str(queued.broadcast.id))],
                ],
            )
        ]

    # -- screens ----------------------------------------------------------------------

    async def _compose(self, ctx: Context) -> list[Reply]:
        if not await R.is_staff(ctx):
            return [Reply(R.REFUSED)]
        ctx.finish()
        return self.begin(ctx)

    async def _cancel(self, ctx: Context, broadcast_id: int) -> list[Reply]:
        n = await B.cancel(ctx.session, broadcast_id, await R.actor_of(ctx), ctx.services.now())
        if n is None:
            return [Reply(f"Không có thông báo #{broadcast_id}.")]
        return [Reply(f"✖️ Đã dừng thông báo #{broadcast_id}: {n} tin chưa gửi được hủy.")]

    async def _report(self, ctx: Context, broadcast_id: int) -> list[Reply]:
        repo = BroadcastRepo(ctx.session)
        b = await repo.get(broadcast_id)
        if b is None:
            return [Reply(f"Không có thông báo #{broadcast_id}.")]
        report = await repo.report(b.id)
        rows = [[self.b("🔄 Cập nhật", "report", str(b.id))]]
        if report["pending"]:
            rows.append([self.b("✖️ Dừng gửi", "cancel", str(b.id))])
        return [Reply(B.report_text(b, report), buttons=rows)]

    async def _list(self, ctx: Context) -> list[Reply]:
        items = await BroadcastRepo(ctx.session).list(8)
        if not items:
            return [Reply("Chưa gửi thông báo nào.", buttons=[[self.b("📣 Gửi thông báo", "bc")]])]
        lines = ["📊 Thông báo gần đây:"]
        rows = []
        for b in items:
            status = B.STATUS_LABELS.get(b.status, b.status)
            lines.append(f"#{b.id} · {date_text(b.send_at)} · {b.total} người · {status}")
            rows.append(self.b(f"#{b.id}", "report", str(b.id)))
        return [Reply("\n".join(lines), buttons=[rows[i : i + 4] for i in range(0, len(rows), 4)])]

    async def _drafts(self, ctx: Context) -> list[Reply]:
        count, drafts = await new_drafts(ctx.session, 10)
        if not count:
            return [Reply("Chưa có hồ sơ mới nào.")]
        lines = [f"📝 {count} hồ sơ mới (chủ cơ sở đã xác nhận, chưa xử lý):"]
        for d in drafts:
            lines.append(
                f"#{d.id} · {d.facility_name or '—'} · {d.province or '—'} · "
                f"{date_text(d.confirmed_at or d.created_at)}"
            )
        lines.append("Xem chi tiết: kcbot drafts show ID.")
        return [Reply("\n".join(lines))]


def feature(services: Services) -> Feature:
    return StaffFeature(services)
