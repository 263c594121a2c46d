"""The outbox on SQLite and PostgreSQL, with a controlled clock and an in-test channel."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.channels import Outcome, SendResult
from bot.outbox import OutboxConfig, OutboxSender, enqueue
from bot.types import Button
from db.repos.core import UserRepo
from db.repos.outbox import OutboxRepo
from tests.test_outbox_support import (
    Crash,
    FakeClock,
    RecordingSender,
    attempts,
    local,
    make_user,
    outbox_rows,
    sessions_for,
)

T0 = local(2026, 5, 9, 8, 0)
FLOOD_7S = SendResult(Outcome.RATE_LIMITED, retry_after=7)
SERVER_ERROR = SendResult(Outcome.TRANSIENT, detail="Internal Server Error")
BLOCKED = SendResult(Outcome.UNREACHABLE, detail="bot was blocked by the user")
REFUSED = SendResult(Outcome.REJECTED, detail="chat not found")


@pytest.fixture
async def db(db_url):
    engine, sessions = sessions_for(db_url)
    yield sessions
    await engine.dispose()


async def queue(sessions, n, *, campaign="bc:1", chat=lambda i: str(1000 + i), now=T0, **kw):
    async with sessions() as session, session.begin():
        return [
            await enqueue(
                session,
                campaign=campaign,
                channel="telegram",
                chat_id=chat(i),
                text=f"Tin {i}",
                now=now,
                **kw,
            )
            for i in range(n)
        ]


def sender_for(sessions, channel, clock, **config):
    return OutboxSender(sessions, {"telegram": channel}, config=OutboxConfig(**config), clock=clock)


async def test_enqueue_is_idempotent_per_campaign_and_chat(db):
    assert await queue(db, 3) == [True, True, True]
    assert await queue(db, 3) == [False, False, False]
    assert await queue(db, 1, campaign="bc:2") == [True]
    async with db() as session, session.begin():
        assert await enqueue(
            session,
            campaign="bc:1",
            channel="zalo",
            chat_id="1000",
            text="x",
            now=T0,
            buttons=[[Button("Xem", "reminders:list")]],
        )
    assert len(await outbox_rows(db)) == 5


async def test_sends_each_row_once_with_buttons_and_records_the_attempt(db):
    async with db() as session, session.begin():
        await enqueue(
            session,
            campaign="rem:1:7",
            channel="telegram",
            chat_id="42",
            text="Còn 7 ngày",
            buttons=[[Button("🔕 Tắt", "reminders:stop")]],
            now=T0,
        )
    clock = FakeClock(T0)
    channel = RecordingSender(clock)
    sender = sender_for(db, channel, clock)
    stats = await sender.drain()
    assert stats.sent == 1
    assert channel.to("42") == ["Còn 7 ngày"]
    assert (await sender.drain()).sent == 0  # a second pass finds nothing
    [row] = await outbox_rows(db)
    assert row.status == "sent" and row.attempts == 1 and row.sent_at == T0
    assert [a.outcome for a in await attempts(db, row.id)] == ["sent"]


async def test_not_before_is_respected(db):
    await queue(db, 1, not_before=T0 + timedelta(hours=2))
    clock = FakeClock(T0)
    channel = RecordingSender(clock)
    sender = sender_for(db, channel, clock)
    await sender.drain()
    assert channel.delivered == []
    clock.advance(hours=2)
    await sender.drain()
    assert len(channel.delivered) == 1


async def test_overall_rate_limit(db):
    await queue(db, 90)
    clock = FakeClock(T0)
    channel = RecordingSender(clock)
    sender = sender_for(db, channel, clock, rate=30, burst=1, concurrency=8, batch=40)
    await sender.drain()
    assert len(channel.delivered) == 90
    times = sorted(t.timestamp() for _, _, t in channel.delivered)
    # never more than 30 (+1 saved-up token) in any one-second window
    for i, start in enumerate(times):
        assert sum(1 for t in times[i:] if t < start + 1.0) <= 31
    # and the limit is used: 90 messages take about 3 s, not much more
    assert times[-1] - times[0] < 90 / 30 + 0.5


async def test_one_message_per_second_per_chat(db):
    for campaign in ("a", "b", "c"):
        await queue(db, 1, campaign=campaign, chat=lambda i: "7")
    clock = FakeClock(T0)
    channel = RecordingSender(clock)
    await sender_for(db, channel, clock, rate=30, concurrency=4).drain()
    times = [t.timestamp() for _, _, t in channel.delivered]
    assert len(times) == 3
    assert all(b - a >= 0.999 for a, b in zip(times, times[1:], strict=False))


async def test_429_pauses_the_whole_sender_for_retry_after(db):
    await queue(db, 5)
    clock = FakeClock(T0)
    channel = RecordingSender(clock, fail={"1000": [FLOOD_7S]})
    sender = sender_for(db, channel, clock, rate=0, per_chat_seconds=0, concurrency=1)
    await sender.drain()
    assert sorted(c for c, _, _ in channel.delivered) == [str(1000 + i) for i in range(5)]
    first_call = channel.calls[0][1]
    # nothing at all was sent during the pause, and the refused row went again after it
    assert all(t >= first_call + timedelta(seconds=7) for _, _, t in channel.delivered)
    rows = await outbox_rows(db)
    assert all(r.status == "sent" for r in rows)
    assert [a.outcome for a in await attempts(db, rows[0].id)] == ["rate_limited", "sent"]


async def test_network_errors_back_off_then_give_up(db):
    await queue(db, 1)
    clock = FakeClock(T0)
    errors = [SendResult(Outcome.TRANSIENT, detail=d) for d in ("Bad Gateway", "Timed out", "502")]
    channel = RecordingSender(clock, fail={"1000": errors})
    sender = sender_for(db, channel, clock, max_attempts=3, backoff_seconds=2)
    await sender.drain()
    [row] = await outbox_rows(db)
    assert row.status == "pending" and row.not_before == T0 + timedelta(seconds=2)
    clock.advance(seconds=1)
    await sender.drain()
    assert len(channel.calls) == 1  # not due yet
    clock.advance(seconds=1)
    await sender.drain()
    [row] = await outbox_rows(db)
    assert row.not_before == clock.now() + timedelta(seconds=4)  # doubled
    clock.advance(seconds=4)
    await sender.drain()
    [row] = await outbox_rows(db)
    assert row.status == "failed" and row.attempts == 3
    assert channel.delivered == []
    assert [a.outcome for a in await attempts(db)] == ["retry", "retry", "failed"]


async def test_transient_error_then_success(db):
    await queue(db, 1)
    clock = FakeClock(T0)
    channel = RecordingSender(clock, fail={"1000": [SERVER_ERROR]})
    sender = sender_for(db, channel, clock)
    await sender.drain()
    clock.advance(seconds=2)
    await sender.drain()
    assert channel.to("1000") == ["Tin 0"]


async def test_blocked_user_is_marked_unreachable_and_skipped(db):
    async with db() as session, session.begin():
        await make_user(session, "1000")
        await make_user(session, "1001")
    await queue(db, 2)
    await queue(db, 1, campaign="later")  # a second row to the blocked chat
    clock = FakeClock(T0)
    channel = RecordingSender(
        clock,
        fail={"1000": [BLOCKED]},
    )
    sender = sender_for(db, channel, clock, concurrency=1)
    await sender.drain()
    async with db() as session:
        user = await UserRepo(session).get("telegram", "1000")
        assert user is not None and user.unreachable
    assert channel.to("1000") == [] and channel.to("1001") == ["Tin 1"]
    assert [c for c, _ in channel.calls].count("1000") == 1  # never tried again
    statuses = {(r.campaign, r.chat_id): r.status for r in await outbox_rows(db)}
    assert statuses[("bc:1", "1000")] == "failed"
    assert statuses[("later", "1000")] == "failed"
    # a row queued after the block is skipped without a call
    await queue(db, 1, campaign="next")
    await sender.drain()
    assert [c for c, _ in channel.calls].count("1000") == 1
    assert [a.outcome for a in await attempts(db)][-1] == "skipped"


async def test_bad_request_fails_at_once(db):
    await queue(db, 1)
    clock = FakeClock(T0)
    channel = RecordingSender(clock, fail={"1000": [REFUSED]})
    await sender_for(db, channel, clock).drain()
    [row] = await outbox_rows(db)
    assert row.status == "failed" and "chat not found" in (row.last_error or "")


async def test_crash_mid_send_then_restart_loses_and_duplicates_nothing(db):
    await queue(db, 10)
    clock = FakeClock(T0)
    delivered: list[str] = []
    crashing = RecordingSender(clock, crash_after=4)
    first = sender_for(db, crashing, clock, concurrency=1, lease_seconds=60)
    with pytest.raises(Crash):
        await first.drain()
    delivered += [c for c, _, _ in crashing.delivered]
    assert len(delivered) == 3  # the 4th send died before reaching the platform
    # restarted at once: the dead worker's rows are still leased, nobody takes them
    healthy = RecordingSender(clock)
    second = sender_for(db, healthy, clock, concurrency=1, lease_seconds=60)
    await second.drain()
    assert healthy.delivered == []
    clock.advance(seconds=61)  # the lease ran out
    await second.drain()
    delivered += [c for c, _, _ in healthy.delivered]
    assert sorted(delivered) == [str(1000 + i) for i in range(10)]  # each exactly once
    assert all(r.status == "sent" for r in await outbox_rows(db))


async def test_clean_stop_hands_back_claimed_rows(db):
    await queue(db, 20)
    clock = FakeClock(T0)
    channel = RecordingSender(clock)
    sender = sender_for(db, channel, clock, rate=1, concurrency=1, per_chat_seconds=0)

    async def stop_soon():
        while len(channel.delivered) < 3:  # noqa: ASYNC110 - a test poll on yields
            await asyncio.sleep(0)
        sender.stop()

    await asyncio.gather(sender.run_once(), stop_soon())
    rows = await outbox_rows(db)
    sent = [r for r in rows if r.status == "sent"]
    assert len(sent) == len(channel.delivered) >= 3
    assert all(r.status in {"sent", "pending"} for r in rows)  # none left leased
    fresh = RecordingSender(clock)
    await sender_for(db, fresh, clock, rate=0, per_chat_seconds=0).drain()
    assert len(channel.delivered) + len(fresh.delivered) == 20


async def test_two_senders_with_their_own_connections_send_each_row_once(db_url):
    """Two workers, each with its own engine (as two processes would be)."""
    engine_a, sessions_a = sessions_for(db_url)
    engine_b, sessions_b = sessions_for(db_url)
    try:
        await queue(sessions_a, 300)
        clock = FakeClock(T0)
        channel_a = RecordingSender(clock, delay=3)
        channel_b = RecordingSender(clock, delay=3)
        cfg = {"rate": 0, "per_chat_seconds": 0, "batch": 7, "concurrency": 3}
        a = sender_for(sessions_a, channel_a, clock, **cfg)
        b = sender_for(sessions_b, channel_b, clock, **cfg)
        await asyncio.gather(a.drain(), b.drain())
        chats = [c for c, _, _ in channel_a.delivered + channel_b.delivered]
        assert sorted(chats) == sorted(str(1000 + i) for i in range(300))
        async with sessions_a() as session:
            counts = await OutboxRepo(session).counts()
        assert counts["sent"] == 300 and counts["pending"] == counts["sending"] == 0
    finally:
        await engine_a.dispose()
        await engine_b.dispose()
