"""An announcement to 10,000 users: enqueue time, send rate, duplicates, owners' replies.

Run from the repository root::

    python bench/broadcast_bench.py [--users 10000] [--seconds 30] [--full] [--no-postgres]

The real bot as ``kcbot run`` assembles it (Telegram transport, inbox worker, engine,
outbox at 30 messages/s for bulk sends) against a fake Bot API in this process.
``--users`` owners in Quảng Ngãi (and as many elsewhere) are seeded; the announcement to
Quảng Ngãi is queued through the same service as the staff chat and ``kcbot broadcast``
(``handlers.staff.broadcast.create``: audience query + one outbox row per recipient), and
timed. While it drains, owners write 10 messages a second (as in ``reply_latency.py``);
their replies' latency is measured. After ``--seconds`` (or, with ``--full``, once every
row is sent) the delivery report is read from the outbox and the fake server's log is
checked: no chat got the announcement twice, none outside the province, none lost
(sent + pending = recipients).

Targets: enqueue < 5 s; ≥ 95% of 30/s sustained; 0 duplicates, 0 lost; replies p95 < 1 s.
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
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import time as dtime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.reply_latency import _await_reply  # noqa: E402
from bench.telegram_throughput import with_postgres  # noqa: E402
from tests.auxil.fake_telegram import TOKEN, FakeTelegram  # noqa: E402

RECIPIENTS = 1_000_000  # chat ids of the announcement's recipients start here
OTHERS = 2_000_000  # owners in another province
WRITERS = 10_000  # chat ids of the owners who write during the drain
BULK_RATE = 30.0
TEXT = "📣 Hội chợ hàng CNNT tiêu biểu khu vực miền Trung: mở đăng ký đến 20/12."


@dataclass
class Result:
    name: str
    enqueue_s: float
    recipients: int
    rate: float
    duplicates: int
    wrong: int
    lost: int
    latencies: list[float]

    def line(self) -> str:
        lat = sorted(self.latencies) or [0.0]
        p50 = statistics.median(lat)
        p95 = lat[min(len(lat) - 1, int(len(lat) * 0.95))]
        return (
            f"{self.name:12} {self.recipients:>10} {self.enqueue_s:>10.2f} "
            f"{self.rate:>7.1f}/s {self.rate / BULK_RATE:>5.0%} {self.duplicates:>5} "
            f"{self.wrong:>5} {self.lost:>5} {p50 * 1000:>8.0f} {p95 * 1000:>8.0f}"
        )


async def seed(app: object, users: int) -> None:
    """``users`` owners subscribed to reminders in Quảng Ngãi, as many in Hà Nội."""
    from sqlalchemy import insert, select

    from db.models.core import User
    from db.models.events import Subscription

    now = datetime.now(UTC)
    rows = [
        {
            "channel": "telegram",
            "chat_id": str(base + i),
            "user_id": str(base + i),
            "role": "owner",
            "unreachable": False,
            "first_seen": now,
            "last_seen": now,
        }
        for base in (RECIPIENTS, OTHERS)
        for i in range(users)
    ]
    async with app.sessions() as session, session.begin():  # type: ignore[attr-defined]
        await session.execute(insert(User), rows)
        ids = (await session.execute(select(User.id, User.chat_id))).all()
        subs = [
            {
                "user_id": uid,
                "active": True,
                "kinds": [],
                "sectors": [],
                "created_at": now,
                "updated_at": now,
                "province": "Quảng Ngãi" if int(chat) < OTHERS else "Hà Nội",
            }
            for uid, chat in ids
            if int(chat) >= RECIPIENTS
        ]
        await session.execute(insert(Subscription), subs)


async def run(name: str, url: str, args: argparse.Namespace) -> Result:
    from db.repos.staff import BroadcastRepo
    from handlers.staff import broadcast as B
    from tests.auxil.app import make_settings
    from tests.auxil.telegram import start_bot

    fake = FakeTelegram()
    await fake.start()
    settings = make_settings(
        url,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=fake.base_url,
        outbox_rate=BULK_RATE,
        send_window="00:00-23:59",
    )
    app, transport, workers = await start_bot(settings)
    latencies: list[float] = []
    try:
        await seed(app, args.users)
        for chat in range(args.chats):  # first contact, not timed
            fake.push_message(WRITERS + chat, "/start")
        await fake.wait_for(lambda f: f.sent_total >= args.chats, timeout=120)
        began = time.monotonic()
        async with app.sessions() as session, session.begin():
            queued = await B.create(
                session,
                text=TEXT,
                audience=B.Audience(provinces=[B.province_code("Quảng Ngãi") or 0]),
                actor="bench",
                now=datetime.now(UTC),
                window=(dtime(0, 0), dtime(23, 59)),
            )
        enqueue_s = time.monotonic() - began
        workers.sender.wake()
        await asyncio.sleep(2)  # the drain reaches its pace
        before = _announced(fake)
        start = time.monotonic()
        total = int(args.seconds * args.rate)
        for i in range(total):
            await asyncio.sleep(max(0.0, start + i / args.rate - time.monotonic()))
            chat = WRITERS + i % args.chats
            seen = len(fake.sent_to(chat))
            fake.push_message(chat, "/menu")
            asyncio.ensure_future(_await_reply(fake, chat, seen, time.monotonic(), latencies))
        await fake.wait_for(lambda f: len(latencies) >= total, timeout=120)
        window = time.monotonic() - start
        rate = (_announced(fake) - before) / window
        if args.full:
            await fake.wait_for(lambda f: _announced(f) >= queued.count, timeout=3600)
            await asyncio.sleep(2)
        async with app.sessions() as session:
            report = await BroadcastRepo(session).report(queued.broadcast.id)
    finally:
        await transport.stop()
        await workers.stop()
        await app.close()
        await fake.stop()
    got = Counter(
        c["params"]["chat_id"]
        for c in fake.calls
        if c["method"] == "sendMessage" and c["ok"] and c["params"].get("text") == TEXT
    )
    duplicates = sum(n - 1 for n in got.values() if n > 1)
    wrong = sum(1 for chat in got if not RECIPIENTS <= int(chat) < RECIPIENTS + args.users)
    lost = queued.count - report["sent"] - report["pending"]
    return Result(name, enqueue_s, queued.count, rate, duplicates, wrong, lost, latencies)


def _announced(fake: FakeTelegram) -> int:
    return sum(
        1
        for c in fake.calls
        if c["method"] == "sendMessage" and c["ok"] and c["params"].get("text") == TEXT
    )


async def variants(args: argparse.Namespace, tmp: Path) -> list[Result]:
    url = f"sqlite+aiosqlite:///{tmp / f'bc-{uuid.uuid4().hex[:6]}.sqlite3'}"
    results = [await run("SQLite", url, args)]
    if not args.no_postgres:

        async def on_pg(pg_url: str) -> Result:
            return await run("PostgreSQL", pg_url, args)

        results.append(await with_postgres(on_pg))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rate", type=float, default=10, help="owners' messages a second")
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--full", action="store_true", help="wait until every row is sent")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp_name:
        results = asyncio.run(variants(args, Path(tmp_name)))
    print(
        f"\nannouncement to {args.users:,} of {2 * args.users:,} users; owners write "
        f"{args.rate:g}/s for {args.seconds:g} s; Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"{'database':12} {'recipients':>10} {'enqueue s':>10} {'rate':>9} {'of 30':>5} "
        f"{'dup':>5} {'wrong':>5} {'lost':>5} {'p50 ms':>8} {'p95 ms':>8}"
    )
    for result in results:
        print(result.line())
    print("\ntargets: enqueue < 5 s; ≥ 95% of 30/s; 0 dup, 0 lost; replies p95 < 1000 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
