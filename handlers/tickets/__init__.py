"""Human handoff (hỏi cán bộ): a user's question becomes a ticket that staff take and
answer from their own chat; the answer reaches the user through the outbox.

- the user: «☎️ Liên hệ cán bộ» → «✍️ Gửi câu hỏi cho cán bộ», «Hỏi cán bộ» under an
  answer, or typing «gặp cán bộ»: the question (a real one: «ok», «ừ», an emoji are
  refused), optionally a phone number (after the data notice), the centre's hours and what
  happens next. While the ticket is open, what the user types goes to the staff member;
- staff (``users.role`` staff or admin): a notice with «✋ Nhận» and «✍️ Trả lời»; the first
  to take a ticket owns it; the next text after «Trả lời» (or ``/tl ID text``) is the answer;
  «✅ Đã xong» on either side closes it; «🙋 Câu hỏi chờ trả lời» lists the queue;
- the FAQ's unanswered questions and «chưa đúng ý» land in the same queue (``from_faq``);
- ``check_overdue``: 24 working hours without an answer (run by the workers).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.types import Button, Reply
from db.models.handoff import Ticket
from db.repos.handoff import TicketRepo, is_staff
from handlers.base import Context, Feature, Services, button, consent_gate
from handlers.forms import words
from handlers.tickets import desk
from handlers.tickets import service as svc
from handlers.tickets.hours import parse_hours
from handlers.tickets.service import NAME, check_overdue
from knowledge.normalize import fold_key
from knowledge.phones import vn_phone

__all__ = ["NAME", "TicketsFeature", "check_overdue", "feature"]

ASK = "✍️ Bạn gõ câu hỏi cho cán bộ {centre} trong một tin nhắn."
NOT_A_QUESTION = (
    "«{text}» chưa phải câu hỏi. Bạn gõ rõ điều muốn hỏi, ví dụ: "
    "«Cơ sở mộc của tôi có được hỗ trợ mua máy không?»"
)
EMPTY = "Mình chưa thấy câu hỏi. Bạn gõ câu hỏi cho cán bộ, hoặc bấm «✖️ Hủy»."
ASK_PHONE = (
    "Bạn có muốn để lại số điện thoại để cán bộ gọi lại không? (không bắt buộc — "
    "cán bộ vẫn trả lời bạn tại đây)"
)
PHONE_Q = "Bạn gõ số điện thoại di động, ví dụ: 0912 345 678."
PHONE_Q_BUTTON = "Bạn bấm «📱 Chia sẻ số điện thoại» hoặc gõ số, ví dụ: 0912 345 678."
BAD_PHONE = "Số điện thoại chưa đúng (số di động Việt Nam có 10 số). Ví dụ: 0912 345 678."
IN_HOURS = "Đang trong giờ làm việc ({hours}): cán bộ sẽ xem câu hỏi sớm."
OFF_HOURS = "Bây giờ ngoài giờ làm việc ({hours}): cán bộ sẽ xem câu hỏi vào giờ làm việc tới."
SENT = (
    "✅ Đã gửi câu hỏi #{id} tới cán bộ {centre}.\n{when}\n"
    "Cán bộ trả lời ngay tại đây. Trong lúc chờ, bạn nhắn thêm gì mình cũng chuyển tới cán bộ. "
    "Sau {limit} giờ làm việc chưa có trả lời, mình sẽ báo bạn và gửi số điện thoại "
    "của Trung tâm."
)
STILL_OPEN = (
    "Câu hỏi #{id} của bạn đang chờ cán bộ trả lời. Bạn nhắn thêm gì mình cũng chuyển tới "
    "cán bộ. Xong rồi thì bấm «✅ Đã xong»."
)
OFFER_LAST = "Bạn muốn gửi câu hỏi này cho cán bộ?\n«{q}»"
CANCELLED = "Đã hủy, chưa gửi gì cho cán bộ. Bạn cần gì thêm?"
ADDED = "Mình đã thêm vào câu hỏi #{id}, cán bộ sẽ thấy khi nhận câu hỏi."
FORWARDED = "Đã chuyển tới cán bộ {staff}."
LEFT = "Bạn đã thoát. Câu hỏi #{id} vẫn chờ cán bộ trả lời."
CLOSED_OWNER = "✅ Đã đóng câu hỏi #{id}. Cảm ơn bạn! Cần gì thêm cứ nhắn mình."
STAFF_ONLY = "Việc này chỉ dành cho cán bộ Trung tâm."
NO_TICKET = "Không tìm thấy câu hỏi #{id}."
ALREADY_CLOSED = "Câu hỏi #{id} đã xong rồi."
TAKEN_BY_OTHER = "Câu hỏi #{id} đã có cán bộ {staff} nhận."
TAKEN = "✋ Bạn đã nhận câu hỏi #{id}. Bấm «✍️ Trả lời» để trả lời."
REPLY_Q = "✍️ Bạn gõ câu trả lời cho câu hỏi #{id}:\n«{q}»"
REPLIED = "📨 Đã gửi câu trả lời cho câu hỏi #{id}."
TL_USAGE = "Cách dùng: /tl SỐ_CÂU_HỎI nội dung trả lời. Ví dụ: /tl 12 Dạ, cơ sở anh được hỗ trợ."
QUEUE_EMPTY = "Không có câu hỏi nào đang chờ. 🎉"
QUEUE_HEAD = "🙋 Câu hỏi chờ trả lời ({n}):"
STAFF_TEXT = "💬 #{id} {name}: {text}"
# An answer that is no question: acknowledgements, fillers.
_ACKS = frozenset(
    " ".join(
        (
            "ok oke okay u uh um uhm uk vang da dc duoc roi co khong ko k hi hello alo a",
            "e test thu ha hmm yes no",
        )
    ).split()
)
RECENT = timedelta(minutes=30)


def _b(label: str, action: str, arg: str = "") -> Button:
    return button(label, NAME, action, arg)


def _cancel_row() -> list[Button]:
    return [_b("✖️ Hủy", "cancel")]


def _home() -> list[Button]:
    return [button("🏠 Menu", "menu", "home")]


def is_question(text: str) -> bool:
    """Something staff can answer: words, not «ok», «ừ» or an emoji."""
    folded = fold_key(text)
    toks = folded.split()
    if not toks or sum(len(t) for t in toks) < 4:
        return False
    return not all(t in _ACKS for t in toks)


class TicketsFeature(Feature):
    name = NAME
    commands = {"tl": "Cán bộ: trả lời câu hỏi (/tl SỐ nội dung)"}

    def __init__(self, services: Services) -> None:
        self.services = services

    # --- what other features call -------------------------------------------------------

    async def count_open(self, ctx: Context) -> int:
        return await TicketRepo(ctx.session).count_open()

    async def from_faq(self, ctx: Context, question: str, source: str, context: str = "") -> None:
        await svc.from_faq(
            ctx.session,
            channel=ctx.incoming.channel,
            chat_id=ctx.incoming.chat_id,
            name=ctx.incoming.display_name or ctx.user.display_name,
            question=question,
            source=source,
            context=context or None,
            now=ctx.services.now(),
        )

    # --- helpers ------------------------------------------------------------------------

    def _hours_note(self, ctx: Context) -> str:
        hours = ctx.settings.centre_hours
        open_now = parse_hours(hours).open_at(ctx.services.now())
        return (IN_HOURS if open_now else OFF_HOURS).format(hours=hours)

    def _staff_name(self, ctx: Context) -> str:
        return ctx.incoming.display_name or ctx.user.display_name or "Trung tâm"

    def _actor(self, ctx: Context) -> str:
        return f"user:{ctx.user.id}"

    def _last_exchange(self, ctx: Context) -> str:
        """What the FAQ answered last (within its follow-up memory), for staff."""
        last = ctx.state.data.get("faq") if ctx.state.dialogue is None else None
        if not isinstance(last, dict) or not last.get("q"):
            return ""
        kb: Any = ctx.services.kb
        entry = kb.entry(str(last.get("e"))) if kb is not None else None
        title = f" → bot trả lời mục «{entry.title}»" if entry is not None else ""
        return f"hỏi bot «{str(last['q'])[:200]}»{title}"

    async def _staff(self, ctx: Context) -> bool:
        return await is_staff(ctx.session, ctx.incoming.channel, ctx.incoming.chat_id)

    async def _ticket(self, arg: str, ctx: Context, lock: bool = False) -> Ticket | None:
        if not arg.isdigit():
            return None
        return await TicketRepo(ctx.session).get(int(arg), lock=lock)

    def _unique(self, ctx: Context) -> str | None:
        update = ctx.incoming.update_id
        return f"{ctx.incoming.channel}{update}" if update else None

    # --- buttons ------------------------------------------------------------------------

    async def on_button(self, ctx: Context, action: str, arg: str) -> list[Reply]:
        if action == "open":
            return await self._open(ctx)
        if action == "new":
            return self._ask(ctx, self._last_exchange(ctx))
        if action == "send":
            return await self._send_recent(ctx, arg)
        if action == "cancel":
            ctx.finish()
            return [Reply(CANCELLED, buttons=[_home()])]
        if action == "phone":
            return await self._ask_phone(ctx)
        if action == "nophone":
            if ctx.state.dialogue != NAME or not ctx.state.data.get("q"):
                return await ctx.router.stale_button(ctx)
            return await self._submit(ctx, None)
        if action == "close":
            return await self._close(ctx, arg)
        if action in ("take", "reply", "queue") and not await self._staff(ctx):
            return [Reply(STAFF_ONLY, buttons=[_home()])]
        if action == "take":
            return await self._take(ctx, arg)
        if action == "reply":
            return await self._start_reply(ctx, arg)
        if action == "queue":
            return [await self._queue(ctx)]
        return await ctx.router.stale_button(ctx)

    async def _open(self, ctx: Context) -> list[Reply]:
        repo = TicketRepo(ctx.session)
        mine = await repo.open_for(ctx.incoming.channel, ctx.incoming.chat_id)
        if mine is not None and mine.source == "contact":
            ctx.start(NAME, "open", {"t": mine.id})
            return [Reply(STILL_OPEN.format(id=mine.id), buttons=svc.owner_buttons(mine.id))]
        context = self._last_exchange(ctx)
        recent = mine
        if recent is not None and recent.created_at > ctx.services.now() - RECENT:
            ctx.start(NAME, "offer", {"ctx": context})
            return [
                Reply(
                    OFFER_LAST.format(q=recent.question[:300]),
                    buttons=[
                        [_b("✅ Gửi câu này", "send", str(recent.id))],
                        [_b("✍️ Gõ câu khác", "new")],
                        _cancel_row(),
                    ],
                )
            ]
        return self._ask(ctx, context)

    def _ask(self, ctx: Context, context: str) -> list[Reply]:
        if ctx.state.dialogue == NAME and not context:
            context = str(ctx.state.data.get("ctx") or "")
        ctx.start(NAME, "question", {"ctx": context})
        text = ASK.format(centre=ctx.settings.centre_name) + "\n" + self._hours_note(ctx)
        if ctx.settings.centre_phone:
            text += f"\nCần gấp thì bạn gọi {ctx.settings.centre_phone}."
        return [Reply(text, buttons=[_cancel_row()])]

    async def _send_recent(self, ctx: Context, arg: str) -> list[Reply]:
        ticket = await self._ticket(arg, ctx)
        mine = ticket is not None and (ticket.channel, ticket.chat_id) == (
            ctx.incoming.channel,
            ctx.incoming.chat_id,
        )
        if ticket is None or not mine or ticket.status == "closed":
            return await ctx.router.stale_button(ctx)
        context = str(ctx.state.data.get("ctx") or "") if ctx.state.dialogue == NAME else ""
        ctx.start(NAME, "phone_ask", {"q": ticket.question, "ctx": context, "from": ticket.id})
        return self._phone_offer()

    def _phone_offer(self) -> list[Reply]:
        return [
            Reply(
                ASK_PHONE,
                buttons=[
                    [_b("📞 Để lại số điện thoại", "phone")],
                    [_b("➡️ Không cần, gửi luôn", "nophone")],
                    _cancel_row(),
                ],
            )
        ]

    async def _ask_phone(self, ctx: Context) -> list[Reply]:
        if ctx.state.dialogue != NAME or not ctx.state.data.get("q"):
            return await ctx.router.stale_button(ctx)
        notice = await consent_gate(ctx, f"{NAME}:phone")
        if notice is not None:
            return notice
        ctx.state.step = "phone"
        question = PHONE_Q_BUTTON if ctx.capabilities.request_phone else PHONE_Q
        return [
            Reply(
                question,
                buttons=[[_b("➡️ Không cần, gửi luôn", "nophone")], _cancel_row()],
                request_phone=ctx.capabilities.request_phone,
            )
        ]

    async def _submit(self, ctx: Context, phone: str | None) -> list[Reply]:
        data = ctx.state.data
        now = ctx.services.now()
        repo = TicketRepo(ctx.session)
        ticket = None
        if isinstance(data.get("from"), int):
            ticket = await repo.get(int(data["from"]))
            if ticket is not None and ticket.status == "closed":
                ticket = None
        if ticket is not None:
            ticket.source = "contact"
            ticket.phone = phone
            ticket.context = ticket.context or data.get("ctx") or None
            ticket.created_at = now
            ticket.updated_at = now
        else:
            ticket = await repo.add(
                channel=ctx.incoming.channel,
                chat_id=ctx.incoming.chat_id,
                name=ctx.incoming.display_name or ctx.user.display_name,
                question=str(data.get("q") or "")[: svc.MAX_QUESTION],
                phone=phone,
                source="contact",
                context=data.get("ctx") or None,
                status="open",
                created_at=now,
                updated_at=now,
            )
        await ctx.session.flush()
        await svc.notify_staff(ctx.session, ticket, now)
        ctx.start(NAME, "open", {"t": ticket.id})
        text = SENT.format(
            id=ticket.id,
            centre=ctx.settings.centre_name,
            when=self._hours_note(ctx),
            limit=svc.WORKING_HOURS_LIMIT,
        )
        if phone:
            text += f"\nCán bộ có thể gọi lại số {phone}."
        return [Reply(text, buttons=svc.owner_buttons(ticket.id))]

    async def _close(self, ctx: Context, arg: str) -> list[Reply]:
        ticket = await self._ticket(arg, ctx, lock=True)
        if ticket is None:
            return await ctx.router.stale_button(ctx)
        me = (ctx.incoming.channel, ctx.incoming.chat_id)
        owner = (ticket.channel, ticket.chat_id) == me
        holder = (ticket.staff_channel, ticket.staff_chat_id) == me
        if not owner and not holder:
            if not await self._staff(ctx):
                return await ctx.router.stale_button(ctx)
            if ticket.staff_chat_id and ticket.status != "closed":
                staff = ticket.staff_name or ""
                return [Reply(TAKEN_BY_OTHER.format(id=ticket.id, staff=staff))]
        if ctx.state.dialogue == NAME and ctx.state.data.get("t") == ticket.id:
            ctx.finish()
        if ticket.status == "closed":
            return [Reply(ALREADY_CLOSED.format(id=ticket.id), buttons=[_home()])]
        await svc.close(
            ctx.session,
            ticket,
            actor=self._actor(ctx),
            now=ctx.services.now(),
            by_owner=owner and not holder,
        )
        if owner and not holder:
            return [Reply(CLOSED_OWNER.format(id=ticket.id), buttons=[_home()])]
        return [
            Reply(f"✅ Đã đóng câu hỏi #{ticket.id}.", buttons=[[_b("🙋 Câu hỏi khác", "queue")]])
        ]

    async def _take(self, ctx: Context, arg: str) -> list[Reply]:
        ticket = await self._ticket(arg, ctx)
        if ticket is None:
            return [Reply(NO_TICKET.format(id=arg[:10]))]
        refused = self._refusal(ctx, ticket)
        if refused is not None:
            return [refused]
        if ticket.status == "taken":  # already mine
            return [Reply(TAKEN.format(id=ticket.id), buttons=self._mine_buttons(ticket.id))]
        if not await self._claim(ctx, ticket):
            ticket = await self._ticket(arg, ctx)
            assert ticket is not None
            return [self._refusal(ctx, ticket) or Reply(TAKEN.format(id=ticket.id))]
        return [Reply(TAKEN.format(id=ticket.id), buttons=self._mine_buttons(ticket.id))]

    def _mine_buttons(self, ticket_id: int) -> list[list[Button]]:
        return [
            [_b("✍️ Trả lời", "reply", str(ticket_id)), _b("✅ Đã xong", "close", str(ticket_id))]
        ]

    def _refusal(self, ctx: Context, ticket: Ticket) -> Reply | None:
        if ticket.status == "closed":
            return Reply(ALREADY_CLOSED.format(id=ticket.id))
        me = (ctx.incoming.channel, ctx.incoming.chat_id)
        if ticket.status == "taken" and (ticket.staff_channel, ticket.staff_chat_id) != me:
            return Reply(TAKEN_BY_OTHER.format(id=ticket.id, staff=ticket.staff_name or ""))
        return None

    async def _claim(self, ctx: Context, ticket: Ticket) -> bool:
        """First to take owns it; the owner is told who took it."""
        staff = desk.Staff(
            self._staff_name(ctx), self._actor(ctx), ctx.incoming.channel, ctx.incoming.chat_id
        )
        return await desk.take(ctx.session, ticket, staff, ctx.services.now())

    async def _start_reply(self, ctx: Context, arg: str) -> list[Reply]:
        ticket = await self._ticket(arg, ctx)
        if ticket is None:
            return [Reply(NO_TICKET.format(id=arg[:10]))]
        refused = self._refusal(ctx, ticket)
        if refused is not None:
            return [refused]
        if ticket.status == "open" and not await self._claim(ctx, ticket):
            ticket = await self._ticket(arg, ctx)
            assert ticket is not None
            return [self._refusal(ctx, ticket) or Reply(ALREADY_CLOSED.format(id=ticket.id))]
        ctx.start(NAME, "reply", {"t": ticket.id})
        return [
            Reply(
                REPLY_Q.format(id=ticket.id, q=ticket.question[:500]),
                buttons=[_cancel_row()],
            )
        ]

    async def _queue(self, ctx: Context) -> Reply:
        tickets = [
            t for t in await TicketRepo(ctx.session).list(open_only=True) if not t.answered_at
        ]
        if not tickets:
            return Reply(QUEUE_EMPTY, buttons=[_home()])
        lines = [QUEUE_HEAD.format(n=len(tickets))]
        rows: list[list[Button]] = []
        for t in tickets[:8]:
            who = f" — {t.staff_name} đã nhận" if t.status == "taken" else ""
            lines.append(f"#{t.id} {t.name or ''}: «{t.question[:80]}»{who}")
            rows.append([_b(f"✍️ Trả lời #{t.id}", "reply", str(t.id))])
        if len(tickets) > 8:
            lines.append(
                f"… và {len(tickets) - 8} câu nữa (xem hết ở trang «Câu hỏi chờ trả lời» "
                "của trang cán bộ /admin)."
            )
        rows.append(_home())
        return Reply("\n".join(lines), buttons=rows)

    # --- commands -----------------------------------------------------------------------

    async def on_command(self, ctx: Context, command: str, args: str) -> list[Reply]:
        if command != "tl":
            return await ctx.router.unknown_command(ctx)
        if not await self._staff(ctx):
            return [Reply(STAFF_ONLY)]
        number, _, text = args.partition(" ")
        number = number.lstrip("#")
        if not number.isdigit() or not text.strip():
            return [Reply(TL_USAGE)]
        ticket = await self._ticket(number, ctx)
        if ticket is None:
            return [Reply(NO_TICKET.format(id=number[:10]))]
        refused = self._refusal(ctx, ticket)
        if refused is not None:
            return [refused]
        if ticket.status == "open" and not await self._claim(ctx, ticket):
            ticket = await self._ticket(number, ctx)
            assert ticket is not None
            return [self._refusal(ctx, ticket) or Reply(ALREADY_CLOSED.format(id=ticket.id))]
        return await self._send_reply(ctx, ticket, text)

    async def _send_reply(self, ctx: Context, ticket: Ticket, text: str) -> list[Reply]:
        await svc.reply(
            ctx.session,
            ticket,
            text,
            staff_name=self._staff_name(ctx),
            actor=self._actor(ctx),
            now=ctx.services.now(),
            unique=self._unique(ctx),
        )
        return [Reply(REPLIED.format(id=ticket.id), buttons=self._mine_buttons(ticket.id))]

    # --- typed text ---------------------------------------------------------------------

    async def reprompt(self, ctx: Context) -> list[Reply]:
        step = ctx.state.step
        if step == "question":
            return [Reply(ASK.format(centre=ctx.settings.centre_name), buttons=[_cancel_row()])]
        if step == "phone_ask":
            return self._phone_offer()
        if step == "phone":
            return [
                Reply(PHONE_Q, buttons=[[_b("➡️ Không cần, gửi luôn", "nophone")], _cancel_row()])
            ]
        return []

    async def on_text(self, ctx: Context) -> list[Reply]:
        step = ctx.state.step
        text = ctx.text
        if step in ("question", "phone_ask", "phone", "offer", "reply") and words.is_quit(text):
            ctx.finish()
            return [Reply(CANCELLED, buttons=[_home()])]
        if step in ("question", "offer"):
            return await self._question(ctx, text)
        if step == "phone_ask":
            phone = vn_phone(text) if text else None
            if phone is None and not ctx.incoming.phone:
                return [Reply("Bạn chọn một nút bên dưới giúp mình nhé."), *self._phone_offer()]
            return await self._ask_phone(ctx)
        if step == "phone":
            phone = vn_phone(ctx.incoming.phone or text)
            if phone is None:
                return [Reply(BAD_PHONE), *await self.reprompt(ctx)]
            return await self._submit(ctx, phone)
        if step == "reply":
            return await self._staff_text(ctx, text)
        if step == "open":
            return await self._owner_text(ctx, text)
        ctx.finish()
        return await ctx.router.free_text(ctx)

    async def _question(self, ctx: Context, text: str) -> list[Reply]:
        if not text:
            return [Reply(EMPTY, buttons=[_cancel_row()])]
        faq: Any = ctx.router.get("faq")
        if faq is not None and hasattr(faq, "open_named_feature"):
            routed = await faq.open_named_feature(ctx, text, NAME)
            if routed is not None:  # «tắt nhắc lịch» typed here asks for that feature
                if ctx.state.dialogue == NAME:
                    ctx.finish()
                return list(routed)
        if not is_question(text):
            shown = text if len(text) <= 20 else text[:20] + "…"
            return [Reply(NOT_A_QUESTION.format(text=shown), buttons=[_cancel_row()])]
        context = str(ctx.state.data.get("ctx") or "")
        ctx.start(NAME, "phone_ask", {"q": text[: svc.MAX_QUESTION], "ctx": context})
        return self._phone_offer()

    async def _staff_text(self, ctx: Context, text: str) -> list[Reply]:
        ticket_id = ctx.state.data.get("t")
        ctx.finish()
        ticket = await self._ticket(str(ticket_id), ctx) if isinstance(ticket_id, int) else None
        if ticket is None or not await self._staff(ctx):
            return [Reply(STAFF_ONLY)]
        refused = self._refusal(ctx, ticket)
        if refused is not None:
            return [refused]
        if not text:
            ctx.start(NAME, "reply", {"t": ticket.id})
            return [Reply(EMPTY, buttons=[_cancel_row()])]
        return await self._send_reply(ctx, ticket, text)

    async def _owner_text(self, ctx: Context, text: str) -> list[Reply]:
        ticket_id = ctx.state.data.get("t")
        ticket = await self._ticket(str(ticket_id), ctx) if isinstance(ticket_id, int) else None
        if ticket is None or ticket.status == "closed":
            ctx.finish()
            return await ctx.router.free_text(ctx)
        if not text:
            return [Reply(STILL_OPEN.format(id=ticket.id), buttons=svc.owner_buttons(ticket.id))]
        if words.is_quit(text):
            ctx.finish()
            return [Reply(LEFT.format(id=ticket.id), buttons=svc.owner_buttons(ticket.id))]
        now = ctx.services.now()
        ticket.updated_at = now
        if ticket.status == "taken" and ticket.staff_channel and ticket.staff_chat_id:
            await svc.send(
                ctx.session,
                now,
                svc.key(ticket.id, "o", self._unique(ctx)),
                ticket.staff_channel,
                ticket.staff_chat_id,
                STAFF_TEXT.format(id=ticket.id, name=ticket.name or "", text=text[:3000]),
                self._mine_buttons(ticket.id),
            )
            return [
                Reply(
                    FORWARDED.format(staff=ticket.staff_name or ""),
                    buttons=svc.owner_buttons(ticket.id),
                )
            ]
        if len(ticket.question) + len(text) < svc.MAX_QUESTION:
            ticket.question = f"{ticket.question}\n{text}"
        return [Reply(ADDED.format(id=ticket.id), buttons=svc.owner_buttons(ticket.id))]


def feature(services: Services) -> Feature:
    return TicketsFeature(services)
