"""The person's say over their data: consent before the intake, /dulieu, /xoadulieu, /rutdongy.

Buttons: ``privacy:yes:<then>`` (agree, then continue with the payload ``<then>``),
``privacy:no``, ``privacy:erase`` (ask to confirm), ``privacy:erase_ok``, ``privacy:keep``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.types import Reply
from db.models.drafts import Draft
from db.repos.privacy import NOT_SUBMITTED, AuditRepo, ConsentRepo, PersonalDataRepo
from handlers.base import Context, Feature, Services, button
from handlers.privacy import texts as T

NAME = "privacy"
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
# Dialogues that store personal data: left when consent is withdrawn.
CONSENT_DIALOGUES = frozenset({"intake", "leads"})
PREFIX = f"{NAME}:yes:"


def local_time(moment: datetime) -> str:
    return moment.astimezone(LOCAL).strftime("%H:%M %d/%m/%Y")


def actor_of(ctx: Context) -> str:
    return f"user:{ctx.incoming.channel}:{ctx.incoming.chat_id}"


def _home() -> list:
    return [button("🏠 Menu", "menu", "home")]


def notice_text(ctx: Context, version: str = T.NOTICE_VERSION) -> str:
    s = ctx.settings
    return T.NOTICE[version].format(centre=s.centre_name, draft_days=s.retention_draft_days)


async def has_consent(ctx: Context, purpose: str = "intake") -> bool:
    """Whether the chat agreed to the notice (and has not withdrawn)."""
    return await ConsentRepo(ctx.session).given(ctx.incoming.channel, ctx.incoming.chat_id, purpose)


async def require_consent(ctx: Context, then_payload: str) -> list[Reply] | None:
    """None when the chat has agreed; otherwise the notice with «Đồng ý» / «Không đồng ý».

    «Đồng ý» records the consent (time, notice version) and continues with
    ``then_payload`` (a button payload such as ``"intake:open"``) through the router.
    Nothing is stored before that.
    """
    if await has_consent(ctx):
        return None
    payload = PREFIX + then_payload
    if len(payload.encode("utf-8")) > 64:
        raise ValueError(f"then_payload too long for a button: {then_payload!r}")
    return [
        Reply(
            notice_text(ctx),
            buttons=[
                [button(T.AGREE, NAME, "yes", then_payload), button(T.DISAGREE, NAME, "no")],
                _home(),
            ],
        )
    ]


class PrivacyFeature(Feature):
    name = NAME
    commands = {
        "dulieu": "Xem dữ liệu của tôi",
        "xoadulieu": "Xoá dữ liệu của tôi",
        "rutdongy": "Rút đồng ý lưu dữ liệu",
    }

    def __init__(self, services: Services) -> None:
        self.services = services

    async def gate(self, ctx: Context, then_payload: str) -> list[Reply] | None:
        """``require_consent`` for features that reach it through the router."""
        return await require_consent(ctx, then_payload)

    async def on_command(self, ctx: Context, command: str, args: str) -> list[Reply]:
        if command == "dulieu":
            return [await self.show(ctx)]
        if command == "xoadulieu":
            return [await self.ask_erase(ctx)]
        if command == "rutdongy":
            return [await self.withdraw(ctx)]
        return await ctx.router.unknown_command(ctx)

    async def on_button(self, ctx: Context, action: str, arg: str) -> list[Reply]:
        if action == "yes" and arg:
            return await self.agree(ctx, arg)
        if action == "no":
            return [Reply(T.REFUSED, buttons=[_home()])]
        if action == "erase":
            return [await self.ask_erase(ctx)]
        if action == "erase_ok":
            return [await self.erase(ctx)]
        if action == "keep":
            return [Reply(T.KEPT, buttons=[_home()])]
        if action == "show":
            return [await self.show(ctx)]
        return await ctx.router.stale_button(ctx)

    # --- consent ------------------------------------------------------------------------

    async def agree(self, ctx: Context, then_payload: str) -> list[Reply]:
        replies: list[Reply] = []
        if not await has_consent(ctx):
            now = self.services.now()
            await ConsentRepo(ctx.session).record(
                ctx.incoming.channel,
                ctx.incoming.chat_id,
                version=T.NOTICE_VERSION,
                agreed=True,
                now=now,
            )
            replies.append(Reply(T.AGREED.format(when=local_time(now))))
        ctx.incoming = replace(ctx.incoming, payload=then_payload, text=None)
        return [*replies, *await ctx.router.dispatch(ctx)]

    async def withdraw(self, ctx: Context) -> Reply:
        now = self.services.now()
        withdrawn = await ConsentRepo(ctx.session).withdraw(
            ctx.incoming.channel, ctx.incoming.chat_id, now
        )
        if not withdrawn:
            return Reply(T.NOTHING_TO_WITHDRAW, buttons=[_home()])
        if ctx.state.dialogue in CONSENT_DIALOGUES:
            ctx.finish()
        await AuditRepo(ctx.session).record(
            actor=actor_of(ctx), action="consent.withdraw", subject=f"user:{ctx.user.id}", now=now
        )
        return Reply(
            T.WITHDRAWN.format(when=local_time(now)),
            buttons=[
                [button(T.ERASE_BUTTON, NAME, "erase")],
                [button(T.KEEP_BUTTON, NAME, "keep")],
            ],
        )

    # --- access -------------------------------------------------------------------------

    async def show(self, ctx: Context) -> Reply:
        data = await PersonalDataRepo(ctx.session).collect(
            ctx.incoming.channel, ctx.incoming.chat_id
        )
        lines = [T.DATA_TITLE]
        user = data.user
        if user is not None and (user.display_name or user.phone):
            lines.append(f"• Tên hiển thị trên ứng dụng chat: {user.display_name or T.NONE}")
            if user.phone:
                lines.append(f"• Số điện thoại: {user.phone}")
        if data.consents:
            last = data.consents[-1]
            if last.withdrawn_at is not None:
                state = f"đã rút lúc {local_time(last.withdrawn_at)}"
            else:
                state = f"đồng ý lúc {local_time(last.at)} (bản thông báo {last.version})"
            lines.append(f"• Đồng ý lưu thông tin làm hồ sơ: {state}")
        for draft in data.drafts:
            lines.append(_draft_line(draft))
        sub = data.subscription
        if sub is not None:
            where = sub.province or "cả nước"
            on = "đang bật" if sub.active else "đã tắt"
            lines.append(f"• Nhắc lịch: {on}, tỉnh/thành: {where}")
        if data.questions:
            latest = data.questions[-1].text
            if len(latest) > 80:
                latest = latest[:79] + "…"
            lines.append(f"• Câu hỏi đã gửi: {len(data.questions)} (gần nhất: «{latest}»)")
        if data.tickets:
            latest = data.tickets[-1].question
            if len(latest) > 80:
                latest = latest[:79] + "…"
            phone = " (có số điện thoại)" if any(t.phone for t in data.tickets) else ""
            lines.append(f"• Câu hỏi gửi cán bộ: {len(data.tickets)}{phone} (gần nhất: «{latest}»)")
        if data.leads:
            lines.append(f"• Cơ sở bạn đã giới thiệu: {data.leads}")
        if data.outbox_pending:
            lines.append(f"• Tin nhắn đang chờ gửi cho bạn: {data.outbox_pending}")
        conv = data.conversation
        if conv is not None and conv.dialogue:
            lines.append("• Việc đang làm dở trong cuộc trò chuyện: có")
        if len(lines) == 1:
            return Reply(T.NO_DATA, buttons=[_home()])
        return Reply(
            "\n".join(lines),
            buttons=[[button(T.ERASE_BUTTON, NAME, "erase")], _home()],
        )

    # --- erasure ------------------------------------------------------------------------

    async def ask_erase(self, ctx: Context) -> Reply:
        data = await PersonalDataRepo(ctx.session).collect(
            ctx.incoming.channel, ctx.incoming.chat_id
        )
        what = T.ERASE_WHAT
        kept = [d.id for d in data.drafts if d.status not in NOT_SUBMITTED]
        if kept:
            what += "\n" + T.KEPT_OF_SUBMITTED.format(ids=_ids(kept))
        return Reply(
            T.ASK_ERASE.format(what=what),
            buttons=[
                [button(T.ERASE_CONFIRM_BUTTON, NAME, "erase_ok")],
                [button(T.KEEP_BUTTON, NAME, "keep")],
            ],
        )

    async def erase(self, ctx: Context) -> Reply:
        now = self.services.now()
        done = await PersonalDataRepo(ctx.session).erase(
            ctx.incoming.channel, ctx.incoming.chat_id, now
        )
        had_dialogue = ctx.state.dialogue is not None
        ctx.finish()
        await AuditRepo(ctx.session).record(
            actor=actor_of(ctx),
            action="personal_data.erase",
            subject=f"user:{ctx.user.id}",
            detail=done.summary(),
            now=now,
        )
        parts = []
        if done.drafts_deleted:
            parts.append(f"{done.drafts_deleted} hồ sơ chưa nộp")
        if done.subscriptions:
            parts.append("đăng ký nhắc lịch")
        if done.questions:
            parts.append(f"{done.questions} câu hỏi")
        if done.outbox or done.messages:
            parts.append(f"{done.outbox + done.messages} tin nhắn")
        if had_dialogue:
            parts.append("việc đang làm dở")
        text = T.ERASED.format(what=", ".join(parts)) if parts else T.ERASED_NOTHING
        if done.leads:
            text += "\n" + T.LEADS_KEPT.format(n=done.leads)
        if done.drafts_anonymised:
            text += "\n" + T.KEPT_OF_SUBMITTED.format(ids=_ids(done.drafts_anonymised))
        return Reply(text, buttons=[_home()])


def _ids(ids: list[int]) -> str:
    return ", ".join(f"#{i}" for i in ids)


def _draft_line(d: Draft) -> str:
    parts = [f"• Hồ sơ #{d.id} ({T.STATUS_LABELS.get(d.status, d.status)})"]
    for label, value in (
        ("cơ sở", d.facility_name),
        ("chủ cơ sở", d.owner_name),
        ("ĐT", d.phone),
        ("mã số", d.reg_no),
        ("địa chỉ", ", ".join(v for v in (d.commune, d.province) if v)),
    ):
        if value:
            parts.append(f"{label}: {value}")
    if d.plan:
        parts.append(f"kế hoạch: {d.plan if len(d.plan) <= 60 else d.plan[:59] + '…'}")
    return "; ".join(parts)
