"""The conversation store's contract, run on every backend (SQLite and PostgreSQL).

Whatever implements ``db.repos.core.ConversationStore`` must pass this suite: it is what
the engine relies on (aiogram's storage tests are the model).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from db.repos.core import ChatStore, ConversationStore
from db.session import create_engine

NOW = datetime(2026, 5, 9, 1, 0, tzinfo=UTC)


@pytest.fixture
async def db(db_url):
    engine = create_engine(db_url)
    yield engine
    await engine.dispose()


def store(conn) -> ConversationStore:
    return ChatStore(conn)


async def test_a_new_chat_starts_with_no_dialogue_and_is_created_once(db):
    async with db.begin() as conn:
        first = await store(conn).lock_conversation("telegram", "1")
        again = await store(conn).lock_conversation("telegram", "1")
    assert (first.dialogue, first.step, first.data, first.last_buttons) == (None, None, {}, [])
    assert again == first


async def test_saved_state_loads_back_exactly(db):
    data = {"name": "Cơ sở Hòa Bình 🧺", "nested": {"list": [1, 2, {"x": None}]}, "n": 3.5}
    buttons = [["1. Có", "intake:yes"], ["Không", "intake:no"]]
    async with db.begin() as conn:
        await store(conn).lock_conversation("zalo", "u-1")
        await store(conn).save_conversation("zalo", "u-1", "intake", "name", data, buttons)
    async with db.begin() as conn:
        row = await store(conn).lock_conversation("zalo", "u-1")
    assert (row.dialogue, row.step, row.data, row.last_buttons) == ("intake", "name", data, buttons)
    async with db.begin() as conn:  # the same chat id on another channel is another chat
        other = await store(conn).lock_conversation("telegram", "u-1")
    assert other.dialogue is None


async def test_an_update_is_recorded_once(db):
    async with db.begin() as conn:
        assert await store(conn).record_and_lock("telegram", "7", "u-100") is not None
    async with db.begin() as conn:
        assert await store(conn).record_and_lock("telegram", "7", "u-100") is None
        assert await store(conn).record_and_lock("zalo", "7", "u-100") is not None
        assert await store(conn).record_and_lock("telegram", "7", None) is not None


async def test_a_rolled_back_transaction_records_nothing(db):
    with pytest.raises(RuntimeError):
        async with db.begin() as conn:
            await store(conn).record_and_lock("telegram", "8", "u-200")
            await store(conn).save_conversation("telegram", "8", "faq", "q", {}, [])
            raise RuntimeError("handler failed")
    async with db.begin() as conn:
        row = await store(conn).record_and_lock("telegram", "8", "u-200")
    assert row is not None and row.dialogue is None


async def test_users_seen_keep_their_name_and_role(db):
    async with db.begin() as conn:
        first = await store(conn).user_seen("telegram", "9", "9", "Lan", "vi", NOW)
        later = await store(conn).user_seen(
            "telegram", "9", "9", None, None, NOW + timedelta(hours=1)
        )
    assert first.id == later.id and later.display_name == "Lan" and later.role == "owner"


async def test_prune_forgets_only_old_update_ids(db):
    async with db.begin() as conn:
        await store(conn).record_and_lock("telegram", "10", "u-300")
        assert await store(conn).prune(timedelta(days=7)) == 0
        assert await store(conn).prune(timedelta(seconds=-60)) == 1
    async with db.begin() as conn:  # forgotten: a redelivery now would be handled again
        assert await store(conn).record_and_lock("telegram", "10", "u-300") is not None


@pytest.mark.postgres
async def test_two_transactions_on_one_chat_take_turns(postgres_database):
    """The lock holds until commit: the second sees the first's state, never a mix (on
    PostgreSQL; SQLite has one writer at a time)."""
    from tests.auxil.db import _truncate_all

    await _truncate_all(postgres_database)
    db = create_engine(postgres_database)
    try:
        await _take_turns(db)
    finally:
        await db.dispose()


async def _take_turns(db) -> None:
    order: list[str] = []
    async with db.begin() as conn:
        await store(conn).lock_conversation("telegram", "11")

    async def turn(name: str, hold: float) -> None:
        async with db.begin() as conn:
            row = await store(conn).lock_conversation("telegram", "11")
            order.append(f"{name} saw {row.step}")
            await asyncio.sleep(hold)
            await store(conn).save_conversation("telegram", "11", "faq", name, {}, [])

    first = asyncio.create_task(turn("a", 0.3))
    await asyncio.sleep(0.1)
    await turn("b", 0)
    await first
    assert order == ["a saw None", "b saw a"]
