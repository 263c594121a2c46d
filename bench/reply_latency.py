"""Reply latency while the outbox drains: do users wait behind a broadcast?

Run from the repository root::

    python bench/reply_latency.py [--seconds 30] [--rate 10] [--chats 100] [--no-postgres]

The real bot as ``kcbot run`` assembles it (Telegram transport receiving into the inbox,
inbox worker, engine, outbox at the default 30 messages/s for bulk sends) polls a fake Bot
API in this process. Users write ``--rate`` messages a second spread over ``--chats`` chats
for ``--seconds``; a reply's latency is the time from the update being offered to the
reply reaching the fake server. Measured on SQLite and PostgreSQL, with the outbox idle
and with 10,000 reminders queued at the same time; for the latter, the rate the reminders
kept during the window is printed next to the 30 messages/s limit (the same-run baseline:
the limit they would reach alone).

Targets: p95 under 1 s with the reminders draining; the reminders at ≥ 95% of 30/s.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.telegram_throughput import with_postgres  # noqa: E402
from tests.auxil.fake_telegram import TOKEN, FakeTelegram  # noqa: E402

USERS = 10_000  # chat ids of the users who write
SUBSCRIBERS = 20_000  # chat ids of the reminders' recipients
REMINDERS = 10_000
BULK_RATE = 30.0


@dataclass
class Result:
    name: str
    latencies: list[float]
    bulk_rate: float | None

    def line(self) -> str:
        lat = sorted(self.latencies)
        p50 = statistics.median(lat)
        p95 = lat[min(len(lat) - 1, int(len(lat) * 0.95))]
        bulk = (
            ""
            if self.bulk_rate is None
            else f"{self.bulk_rate:7.1f}/s {self.bulk_rate / BULK_RATE:5.0%}"
        )
        ms = [f"{v * 1000:8.0f}" for v in (p50, p95, lat[-1])]
        return f"{self.name:38} {len(lat):7d} {' '.join(ms)}  {bulk}"


async def run(name: str, url: str, args: argparse.Namespace, reminders: bool) -> Result:
    from bot.outbox import enqueue_many
    from db.models.base import utcnow
    from db.repos.outbox import NewMessage
    from tests.auxil.app import make_settings
    from tests.auxil.telegram import start_bot

    fake = FakeTelegram()
    await fake.start()
    settings = make_settings(
        url, telegram_bot_token=TOKEN, telegram_api_base_url=fake.base_url, outbox_rate=BULK_RATE
    )
    app, transport, workers = await start_bot(settings)
    try:
        for chat in range(args.chats):  # first contact, not timed
            fake.push_message(USERS + chat, "/start")
        await fake.wait_for(lambda f: f.sent_total >= args.chats, timeout=120)
        if reminders:
            now = utcnow()
            rows = [
                NewMessage("bench:rem", "telegram", str(SUBSCRIBERS + i), f"Nhắc lịch {i}", [], now)
                for i in range(REMINDERS)
            ]
            async with app.sessions() as session, session.begin():
                await enqueue_many(session, rows, now)
            workers.sender.wake()
            await asyncio.sleep(2)  # let the drain reach its pace
        offered: dict[int, float] = {}
        latencies: list[float] = []
        bulk_before = _bulk(fake)
        began = time.monotonic()
        total = int(args.seconds * args.rate)
        for i in range(total):
            due = began + i / args.rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            chat = USERS + i % args.chats
            seen = len(fake.sent_to(chat))
            offered[chat] = time.monotonic()
            fake.push_message(chat, "/menu")
            asyncio.ensure_future(_await_reply(fake, chat, seen, offered[chat], latencies))
        await fake.wait_for(lambda f: len(latencies) >= total, timeout=120)
        window = time.monotonic() - began
        bulk_rate = (_bulk(fake) - bulk_before) / window if reminders else None
    finally:
        await transport.stop()
        await workers.stop()
        await app.close()
        await fake.stop()
    return Result(name, latencies, bulk_rate)


def _bulk(fake: FakeTelegram) -> int:
    return sum(
        1
        for c in fake.calls
        if c["method"] == "sendMessage" and c["ok"] and c["params"].get("chat_id", 0) >= SUBSCRIBERS
    )


async def _await_reply(
    fake: FakeTelegram, chat: int, seen: int, offered: float, out: list[float]
) -> None:
    await fake.wait_for(lambda f: len(f.sent_to(chat)) > seen, timeout=120)
    replied = next(
        c["time"]
        for c in fake.calls
        if c["method"] == "sendMessage"
        and c["ok"]
        and c["params"].get("chat_id") == chat
        and c["time"] >= offered
    )
    out.append(replied - offered)


async def variants(args: argparse.Namespace, tmp: Path) -> list[Result]:
    results = []
    for reminders in (False, True):
        label = "10,000 reminders draining" if reminders else "outbox idle"
        url = f"sqlite+aiosqlite:///{tmp / f'lat-{uuid.uuid4().hex[:6]}.sqlite3'}"
        results.append(await run(f"SQLite, {label}", url, args, reminders))
        if not args.no_postgres:

            async def on_pg(pg_url: str, reminders: bool = reminders, label: str = label) -> Result:
                return await run(f"PostgreSQL, {label}", pg_url, args, reminders)

            results.append(await with_postgres(on_pg))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp_name:
        results = asyncio.run(variants(args, Path(tmp_name)))
    print(
        f"\n{args.rate:g} updates/s over {args.chats} chats for {args.seconds:g} s; "
        f"bulk limit {BULK_RATE:g} msg/s; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    print(
        f"{'variant':34} {'replies':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  reminders sent"
    )
    for result in results:
        print(result.line())
    print("\ntargets: p95 < 1000 ms while reminders drain; reminders ≥ 95% of 30/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
