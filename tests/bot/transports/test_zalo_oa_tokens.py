"""Zalo OA tokens: refreshed once by two workers, before expiry and when refused; the
7-day window, billing after 48 hours, Zalo's rate limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels import Outcome
from bot.transports.zalo_oa import ZaloOASender
from bot.types import Button, Reply
from db.models.zalo import ZaloOABilled, ZaloOAToken
from db.session import create_engine, session_factory
from tests.auxil.fake_zalo import DAY_MS, FakeZaloOA
from tests.auxil.zalo import oa_settings, seed_tokens, settings_for

USER = "777000111"


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    from db.migrate import upgrade

    engine = create_engine(db_url)
    await upgrade(engine)
    yield session_factory(engine)
    await engine.dispose()


def sender_for(db_url: str, fake: FakeZaloOA, sessions: Any) -> ZaloOASender:
    settings = settings_for(db_url, **oa_settings(db_url, fake))
    return ZaloOASender(sessions, settings)


async def tokens(sessions: Any) -> list[ZaloOAToken]:
    async with sessions() as session:
        return list(await session.scalars(select(ZaloOAToken).order_by(ZaloOAToken.id)))


async def test_a_refused_token_is_refreshed_once_by_two_workers(
    db_url: str, fake_oa: FakeZaloOA, sessions: Any
):
    await seed_tokens(db_url, fake_oa.access_token, fake_oa.refresh_token)
    fake_oa.expire_access_token()  # Zalo now answers -216 to the stored token
    fake_oa.refresh_delay = 0.3  # both workers are refused while the refresh runs
    # Two workers: separate connection pools on the same database, as two processes.
    other_engine = create_engine(db_url)
    try:
        one = sender_for(db_url, fake_oa, sessions)
        two = sender_for(db_url, fake_oa, session_factory(other_engine))
        async with one, two:
            results = await asyncio.gather(
                one.send(USER, Reply("một")), two.send(USER, Reply("hai"))
            )
    finally:
        await other_engine.dispose()
    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.SENT], results
    assert len(fake_oa.refresh_calls) == 1
    assert sorted(fake_oa.texts_to(USER)) == ["hai", "một"]
    rows = await tokens(sessions)
    assert [r.used for r in rows] == [True, False]
    assert rows[-1].refresh_token == fake_oa.refresh_token
    assert rows[-1].source == "refreshed"


async def test_a_token_about_to_expire_is_refreshed_before_use(
    db_url: str, fake_oa: FakeZaloOA, sessions: Any
):
    await seed_tokens(
        db_url, fake_oa.access_token, fake_oa.refresh_token, expires_in=timedelta(minutes=5)
    )
    async with sender_for(db_url, fake_oa, sessions) as sender:
        assert (await sender.send(USER, Reply("chào"))).outcome is Outcome.SENT
        assert (await sender.send(USER, Reply("lần nữa"))).outcome is Outcome.SENT
    assert len(fake_oa.refresh_calls) == 1
    assert fake_oa.refused == []  # the old token was never tried
    current = (await tokens(sessions))[-1]
    assert current.expires_at - datetime.now(UTC) > timedelta(hours=24)


async def test_a_spent_refresh_token_is_reported_not_retried_forever(
    db_url: str, fake_oa: FakeZaloOA, sessions: Any
):
    await seed_tokens(db_url, "stale-access", "spent-refresh")
    async with sender_for(db_url, fake_oa, sessions) as sender:
        result = await sender.send(USER, Reply("chào"))
    assert result.outcome is Outcome.TRANSIENT and "refresh token" in result.detail
    assert fake_oa.sent == []
    assert [r.refresh_token for r in await tokens(sessions)] == ["spent-refresh"]


async def test_outside_the_window_rate_limit_and_long_text(
    db_url: str, fake_oa: FakeZaloOA, sessions: Any
):
    await seed_tokens(db_url, fake_oa.access_token, fake_oa.refresh_token)
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    fake_oa.last_interaction["silent"] = now_ms - 8 * DAY_MS
    async with sender_for(db_url, fake_oa, sessions) as sender:
        result = await sender.send("silent", Reply("Nhắc lịch hội chợ"))
        assert result.outcome is Outcome.UNREACHABLE
        assert result.reason == "outside_window" and "ngoài cửa sổ 7 ngày" in result.detail
        fake_oa.rate_limit = 1
        limited = await sender.send(USER, Reply("chào"))
        assert limited.outcome is Outcome.RATE_LIMITED and limited.retry_after > 0
        # 5,000 characters and buttons: split within 2,000, buttons on the last part.
        long = Reply("chữ " * 1250, buttons=[[Button("Về menu", "menu:home")]])
        assert (await sender.send(USER, long)).outcome is Outcome.SENT
    parts = fake_oa.sent_to(USER)
    assert len(parts) == 3 and all(len(m["text"]) <= 2000 for m in parts)
    assert "attachment" in parts[-1] and "attachment" not in parts[0]
    assert [r["error"] for r in fake_oa.refused] == [-230, -32]


async def test_messages_after_48_hours_are_sent_and_recorded_as_billed(
    db_url: str, fake_oa: FakeZaloOA, sessions: Any
):
    from db.models.core import User

    await seed_tokens(db_url, fake_oa.access_token, fake_oa.refresh_token)
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        for chat, days in (("recent", 1), ("three-days", 3)):
            session.add(
                User(
                    channel="zalo_oa",
                    chat_id=chat,
                    first_seen=now - timedelta(days=days),
                    last_seen=now - timedelta(days=days),
                )
            )
    async with sender_for(db_url, fake_oa, sessions) as sender:
        for chat in ("recent", "three-days"):
            assert (await sender.send(chat, Reply("Nhắc lịch"))).outcome is Outcome.SENT
    async with sessions() as session:
        billed = list(await session.scalars(select(ZaloOABilled)))
    assert [b.chat_id for b in billed] == ["three-days"]
