"""The inbox on SQLite and PostgreSQL: stored once, claimed in order per chat, leases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.types import Incoming, incoming_from_json, incoming_to_json
from db.repos.inbox import DONE, InboxRepo, NewEvent
from db.session import create_engine

NOW = datetime(2026, 5, 9, 1, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


@pytest.fixture
async def db(db_url):
    engine = create_engine(db_url)
    yield engine
    await engine.dispose()


def event(n: int, chat: str, text: str = "xin chào") -> NewEvent:
    incoming = Incoming(channel="telegram", chat_id=chat, text=text, update_id=str(n), time=NOW)
    return NewEvent("telegram", str(n), chat, incoming_to_json(incoming), raw="{}")


async def claim(db, token: str, now: datetime = NOW, limit: int = 100):
    async with db.begin() as conn:
        return await InboxRepo(conn).claim(token, now, LEASE, limit, ["telegram"])


async def finish(db, event_id: int, token: str) -> bool:
    async with db.begin() as conn:
        return await InboxRepo(conn).finish(event_id, token, NOW)


def test_incoming_round_trips_through_json():
    incoming = Incoming(
        channel="zalo", chat_id="u1", user_id="u1", display_name="Lan", text="hỏi 🧺",
        payload=None, phone="+84905123456", update_id="m-1", time=NOW, language="vi",
    )  # fmt: skip
    assert incoming_from_json(incoming_to_json(incoming)) == incoming


async def test_an_event_delivered_twice_is_stored_once(db):
    async with db.begin() as conn:
        assert await InboxRepo(conn).accept_many([event(1, "a"), event(1, "a")], NOW) == 1
    async with db.begin() as conn:
        assert await InboxRepo(conn).accept_many([event(1, "a"), event(2, "a")], NOW) == 1
        assert (await InboxRepo(conn).counts()) == {"pending": 2}


async def test_one_chat_at_a_time_in_arrival_order(db):
    async with db.begin() as conn:
        await InboxRepo(conn).accept_many(
            [event(1, "a"), event(2, "a"), event(3, "b"), event(4, "a")], NOW
        )
    first = await claim(db, "w1")
    assert [(e.chat_id, e.incoming["update_id"]) for e in first] == [("a", "1"), ("b", "3")]
    assert await claim(db, "w2") == []  # a's next message waits for the first to finish
    assert await finish(db, first[0].id, "w1")
    [second] = await claim(db, "w2")
    assert second.incoming["update_id"] == "2" and second.attempts == 1


async def test_an_expired_claim_is_taken_again_and_the_first_worker_loses_it(db):
    async with db.begin() as conn:
        await InboxRepo(conn).accept_many([event(1, "a")], NOW)
    [mine] = await claim(db, "dead")
    assert await claim(db, "other", NOW + LEASE / 2) == []
    [again] = await claim(db, "other", NOW + LEASE * 2)
    assert again.id == mine.id and again.attempts == 2
    assert not await finish(db, mine.id, "dead")  # it woke up too late: not handled twice
    assert await finish(db, again.id, "other")
    async with db.begin() as conn:
        assert (await InboxRepo(conn).counts()) == {DONE: 1}


async def test_release_gives_unhandled_events_back(db):
    async with db.begin() as conn:
        await InboxRepo(conn).accept_many([event(1, "a"), event(2, "b")], NOW)
    claimed = await claim(db, "w1")
    async with db.begin() as conn:
        await InboxRepo(conn).release([e.id for e in claimed], "w1")
    assert len(await claim(db, "w2")) == 2


async def test_concurrent_claimers_never_share_an_event(db, db_url):
    async with db.begin() as conn:
        await InboxRepo(conn).accept_many([event(i, f"c{i}") for i in range(200)], NOW)
    results = await asyncio.gather(*(claim(db, f"w{n}", limit=30) for n in range(6)))
    ids = [e.id for claimed in results for e in claimed]
    assert len(ids) == len(set(ids)) == 180
