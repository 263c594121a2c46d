"""Outbox benchmark: 10,000 subscribers and one event.

Measures (per database):
- the time to queue the event's reminder for every subscriber;
- the send rate through the fake Telegram Bot API with the 30 msg/s limit, sustained over
  ``--seconds`` (target ≥ 95 % of the limit), with duplicates and lost messages counted;
- the sender's raw rate with the limit lifted.

    python bench/outbox_bench.py [--subscribers 10000] [--seconds 20]
                                 [--backend sqlite|postgres|both]

PostgreSQL: ``KCBOT_TEST_POSTGRES_URL`` (default postgresql+asyncpg://postgres@127.0.0.1:5432/test);
a scratch database is created and dropped. The fake server runs in the same process, so
the raw rate is a lower bound of what the sender alone can do.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PTB_TIMEDELTA", "true")

from sqlalchemy import delete, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.outbox import BotApiSender, OutboxConfig, OutboxSender  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models.core import User  # noqa: E402
from db.models.events import OutboxAttempt, OutboxMessage, Subscription  # noqa: E402
from db.repos.events import EventData, EventRepo  # noqa: E402
from db.repos.outbox import OutboxRepo  # noqa: E402
from db.session import create_engine, session_factory  # noqa: E402
from handlers.reminders.scheduling import enqueue_due  # noqa: E402
from tests.auxil.fake_telegram import TOKEN, FakeTelegram  # noqa: E402

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


async def populate(sessions, n: int, now: datetime) -> None:
    async with sessions() as session, session.begin():
        for start in range(0, n, 2000):
            chunk = range(start, min(n, start + 2000))
            await session.execute(
                insert(User),
                [
                    {
                        "channel": "telegram",
                        "chat_id": str(100000 + i),
                        "user_id": str(100000 + i),
                        "display_name": f"Chủ cơ sở {i}",
                        "role": "owner",
                        "unreachable": False,
                        "first_seen": now,
                        "last_seen": now,
                    }
                    for i in chunk
                ],
            )
        ids = list(await session.scalars(select(User.id).order_by(User.id)))
        for start in range(0, len(ids), 2000):
            await session.execute(
                insert(Subscription),
                [
                    {
                        "user_id": uid,
                        "active": True,
                        "kinds": [],
                        "province": None,
                        "sectors": [],
                        "created_at": now,
                        "updated_at": now,
                    }
                    for uid in ids[start : start + 2000]
                ],
            )
        await EventRepo(session).upsert(
            EventData(
                "Hội chợ hàng CNNT tiêu biểu khu vực phía Bắc",
                "trade_fair",
                now + timedelta(days=7),
                place="Hà Nội",
            ),
            now,
        )


async def enqueue_all(sessions, now: datetime) -> tuple[int, float]:
    started = time.perf_counter()
    async with sessions() as session, session.begin():
        queued = await enqueue_due(session, now)
    return queued, time.perf_counter() - started


async def reset_outbox(sessions) -> None:
    async with sessions() as session, session.begin():
        await session.execute(delete(OutboxAttempt))
        await session.execute(delete(OutboxMessage))


async def run_sender(
    sessions, fake: FakeTelegram, seconds: float, config: OutboxConfig, total: int
) -> dict[str, float]:
    fake.calls.clear()
    async with BotApiSender(TOKEN, fake.base_url, pool_size=max(16, config.concurrency)) as tg:
        sender = OutboxSender(sessions, {"telegram": tg}, config=config)
        task = asyncio.create_task(sender.run_forever())
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            await asyncio.sleep(0.2)
            if sum(1 for c in fake.calls if c["method"] == "sendMessage") >= total:
                break
        sender.stop()
        await task
    sends = [c for c in fake.calls if c["method"] == "sendMessage" and c["ok"]]
    chats = Counter(c["params"]["chat_id"] for c in sends)
    duplicates = sum(n - 1 for n in chats.values() if n > 1)
    async with sessions() as session:
        counts = await OutboxRepo(session).counts()
    span = (sends[-1]["time"] - sends[0]["time"]) if len(sends) > 1 else 0.0
    rate = (len(sends) - 1) / span if span else 0.0
    # lost = marked sent but never delivered, or left leased after the stop
    lost = max(0, counts["sent"] - len(sends)) + counts["sending"]
    unrecorded = max(0, len(sends) - counts["sent"])
    return {
        "delivered": len(sends),
        "rate": rate,
        "duplicates": duplicates,
        "lost": lost,
        "unrecorded": unrecorded,
        "pending": counts["pending"],
    }


async def bench(url: str, label: str, args: argparse.Namespace) -> None:
    engine = create_engine(url)
    await upgrade(engine)
    sessions = session_factory(engine)
    now = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0)  # 08:00 local
    fake = FakeTelegram()
    await fake.start()
    try:
        await populate(sessions, args.subscribers, now)
        queued, took = await enqueue_all(sessions, now)
        print(f"[{label}] queued {queued} reminders in {took:.2f} s ({queued / took:,.0f}/s)")
        again, took2 = await enqueue_all(sessions, now)
        print(f"[{label}] queueing again (idempotent): {again} new, {took2:.2f} s")

        limited = OutboxConfig(rate=30, burst=1, concurrency=8, batch=100)
        r = await run_sender(sessions, fake, args.seconds, limited, queued)
        print(
            f"[{label}] limit 30/s over {args.seconds:.0f} s: {r['delivered']} delivered, "
            f"{r['rate']:.2f} msg/s ({r['rate'] / 30:.1%} of the limit), "
            f"duplicates {r['duplicates']}, lost {r['lost']}, unrecorded {r['unrecorded']}"
        )

        await reset_outbox(sessions)
        queued, _ = await enqueue_all(sessions, now)
        raw = OutboxConfig(rate=0, per_chat_seconds=0, concurrency=32, batch=200)
        r = await run_sender(sessions, fake, args.seconds, raw, queued)
        print(
            f"[{label}] no limit: {r['delivered']} delivered, {r['rate']:.0f} msg/s, "
            f"duplicates {r['duplicates']}, lost {r['lost']}, unrecorded {r['unrecorded']}"
        )
    finally:
        await fake.stop()
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            await bench(f"sqlite+aiosqlite:///{tmp}/bench.sqlite3", "sqlite", args)
    if args.backend in ("postgres", "both"):
        admin_url = os.environ.get("KCBOT_TEST_POSTGRES_URL", DEFAULT_PG)
        name = f"kcbot_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
            await bench(url, "postgres", args)
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
