"""«Tổng quan»: what happened today and in the last 7 days, for staff at a glance —
questions asked, answered and sent to staff; drafts by status; leads; users and
subscribers per channel; the outbox's health; questions per day.

Days are local (Asia/Ho_Chi_Minh) days; "today" runs from local midnight to now, "7 days"
from local midnight six days ago. Where each figure comes from:

- answered: ``faq_feedback`` rows of kind ``given`` (one per answer the FAQ gave);
- not answered: ``unanswered_questions`` (the FAQ was not sure, or «chưa đúng ý»);
- asked: the two together; sent to staff: ``tickets`` created (any source);
- drafts: ``drafts`` by status now, and confirmed in the period (``confirmed_at``);
- leads: ``leads`` by status now, and registered in the period;
- users per channel: ``users``; subscribers: active ``subscriptions``;
- outbox: ``outbox`` rows pending (due now / scheduled), being sent, failed and sent in the
  last 7 days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.models.drafts import STAFF_STATUSES
from db.models.handoff import LEAD_STATUSES
from db.repos.stats import StatsRepo
from knowledge.formats import at_local, local_day

CHART_DAYS = 14


@dataclass(frozen=True)
class Questions:
    answered: int
    unanswered: int
    to_staff: int

    @property
    def asked(self) -> int:
        return self.answered + self.unanswered


@dataclass(frozen=True)
class Count:
    key: str
    label: str
    value: int


@dataclass(frozen=True)
class ChannelCount:
    channel: str
    label: str
    users: int
    subscribers: int


@dataclass(frozen=True)
class Day:
    day: date
    label: str  # dd/mm
    asked: int
    answered: int


@dataclass(frozen=True)
class OutboxHealth:
    due: int  # waiting to go now
    scheduled: int  # waiting for their time (reminders, announcements)
    sending: int
    failed: int  # in the last 7 days
    sent: int  # in the last 7 days
    oldest_due_minutes: int  # how long the oldest due message has waited

    @property
    def stuck(self) -> bool:
        """Due messages waiting for more than 10 minutes: no sender is running."""
        return self.due > 0 and self.oldest_due_minutes >= 10


@dataclass(frozen=True)
class Overview:
    now: datetime
    today: Questions
    week: Questions
    open_tickets: int
    drafts: list[Count]  # by status, workflow order, unfinished ones last
    drafts_today: int
    drafts_week: int
    leads: list[Count]
    leads_today: int
    leads_week: int
    channels: list[ChannelCount]
    users_today: int
    users_week: int
    outbox: OutboxHealth
    days: list[Day]  # the last CHART_DAYS local days, oldest first

    @property
    def max_asked(self) -> int:
        return max((d.asked for d in self.days), default=0)


def channel_label(channel: str) -> str:
    """A channel's id as a heading: «zalo_oa» → «Zalo OA», «telegram» → «Telegram»
    (short words are acronyms), without a list that would name every channel."""
    words = channel.replace("_", " ").split()
    return " ".join(w.upper() if len(w) <= 2 else w.capitalize() for w in words) or channel


async def overview(session: AsyncSession, now: datetime) -> Overview:
    from handlers.intake.service import status_label
    from handlers.leads import STATUS_LABELS as LEAD_LABELS

    stats = StatsRepo(session)
    today = local_day(now)
    first = today - timedelta(days=CHART_DAYS - 1)
    # Local midnights from the chart's first day to tomorrow: one range per day.
    bounds = [at_local(first + timedelta(days=i), 0) for i in range(CHART_DAYS + 1)]
    week_start = at_local(today - timedelta(days=6), 0)

    def totals(counts: list[int]) -> tuple[int, int]:
        """(today, the last 7 days) from counts per range ending with today's."""
        return counts[-1], sum(counts[-7:])

    answered = await stats.per_range("answered", bounds)
    unanswered = await stats.per_range("unanswered", bounds)
    (a_today, a_week), (u_today, u_week) = totals(answered), totals(unanswered)
    # The rest only needs today and the week: two ranges (the earlier six days, today),
    # counted in the same query as the totals per status or channel.
    week = [week_start, bounds[-2], bounds[-1]]

    def summed(groups: dict[str, tuple[int, list[int]]]) -> tuple[int, int]:
        return totals([sum(ranges[i] for _, ranges in groups.values()) for i in range(2)])

    tickets = await stats.grouped("tickets", week)
    t_today, t_week = summed(tickets)
    open_tickets = sum(n for status, (n, _) in tickets.items() if status != "closed")
    drafts_now = await stats.grouped("drafts", week)
    drafts_today, drafts_week = summed(drafts_now)
    order = [*STAFF_STATUSES, *sorted(set(drafts_now) - set(STAFF_STATUSES))]
    drafts = [Count(s, status_label(s), drafts_now.get(s, (0, []))[0]) for s in order]
    leads_now = await stats.grouped("leads", week)
    leads_today, leads_week = summed(leads_now)
    leads = [Count(s, LEAD_LABELS.get(s, s), leads_now.get(s, (0, []))[0]) for s in LEAD_STATUSES]

    users = await stats.grouped("users", week)
    users_today, users_week = summed(users)
    subscribers = await stats.subscribers_by_channel()
    channels = [
        ChannelCount(c, channel_label(c), users.get(c, (0, []))[0], subscribers.get(c, 0))
        for c in sorted(set(users) | set(subscribers))
    ]
    health = await stats.outbox_health(now, week_start)
    days = [
        Day(first + timedelta(days=i), f"{first + timedelta(days=i):%d/%m}", a + u, a)
        for i, (a, u) in enumerate(zip(answered, unanswered, strict=True))
    ]
    return Overview(
        now=now,
        today=Questions(a_today, u_today, t_today),
        week=Questions(a_week, u_week, t_week),
        open_tickets=open_tickets,
        drafts=drafts,
        drafts_today=drafts_today,
        drafts_week=drafts_week,
        leads=leads,
        leads_today=leads_today,
        leads_week=leads_week,
        channels=channels,
        users_today=users_today,
        users_week=users_week,
        outbox=OutboxHealth(
            due=health["due"],
            scheduled=health["scheduled"],
            sending=health["sending"],
            failed=health["failed"],
            sent=health["sent"],
            oldest_due_minutes=health["oldest_due_seconds"] // 60,
        ),
        days=days,
    )
