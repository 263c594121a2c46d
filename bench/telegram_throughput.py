"""Telegram throughput: updates answered per second end to end, through a fake Bot API.

Run from the repository root::

    python bench/telegram_throughput.py [--updates 2000] [--chats 200]
                                        [--no-postgres] [--profile sqlite|postgres|echo]

N updates ("/start", "/help", "/menu" in turn, spread over the chats) are queued on the
fake server (``tests/auxil/fake_telegram.py``, in this process); the clock runs from the
first update queued until every answer has been received. Measured for:

- the real bot as ``kcbot run`` assembles it (``TelegramTransport`` receiving into the
  durable inbox, the inbox worker, engine and handlers, replies through the outbox) on
  SQLite (a temporary file);
- the real bot on PostgreSQL (``KCBOT_TEST_POSTGRES_URL``, default
  postgresql+asyncpg://postgres@127.0.0.1:5432/test; a fresh database is created and
  dropped);
- a bare python-telegram-bot echo bot, built the same way (concurrent updates, same
  polling, same connection limit), whose handler only sends the text back.

HTTP clients: the echo bot keeps python-telegram-bot's default (httpx) — it is the baseline
"bare python-telegram-bot bot"; the real bot uses its own, ``AiohttpRequest`` on aiohttp
(``bot/transports/telegram_request.py``), and reads updates and sends texts as plain JSON.

The ratio bot/echo says how much the dialogue engine (with everything that makes it lose
nothing: inbox, state and replies committed together, sends recorded) costs on top of the
library (target ≥ 0.8). Channel rate limits are lifted in every variant (they would cap all
of them at 30 messages a second and measure only themselves).
``--profile`` runs one variant again under cProfile and prints where the time goes (the
top ``BENCH_PROFILE_LINES`` functions, 45 unless set). Each row also shows the process's
CPU time per update (the in-process fake Bot API's share included): under a loaded
machine the rates swing, and CPU per update says what each variant costs.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import logging
import os
import pstats
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.transports.telegram import CONNECTIONS, POOL_TIMEOUT  # noqa: E402
from tests.auxil.fake_telegram import TOKEN, FakeTelegram  # noqa: E402

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
TEXTS = ("/start", "/help", "/menu")
POLL_TIMEOUT = 1.0
# The echo bot handles this many updates at once (the inbox worker's default too).
CONCURRENT_UPDATES = 16


@dataclass
class Result:
    name: str
    updates: int
    seconds: float
    cpu: float  # this process's CPU seconds meanwhile (the fake Bot API's included)

    @property
    def rate(self) -> float:
        return self.updates / self.seconds


Runner = Callable[[FakeTelegram], Awaitable[Callable[[], Awaitable[None]]]]


async def measure(name: str, start: Runner, updates: int, chats: int) -> Result:
    """Start a bot on a fresh fake server, queue the updates, time until all answered."""
    fake = FakeTelegram()
    await fake.start()
    stop = await start(fake)
    try:
        # warm-up: one update per chat is not timed (first contact, connection pools)
        for chat in range(chats):
            fake.push_message(10_000 + chat, "/start")
        await fake.wait_for(lambda f: f.sent_total >= chats, timeout=300)
        base = fake.sent_total
        began = time.perf_counter()
        cpu = time.process_time()
        for i in range(updates):
            fake.push_message(10_000 + i % chats, TEXTS[i % len(TEXTS)])
        await fake.wait_for(lambda f: f.sent_total >= base + updates, timeout=600)
        seconds = time.perf_counter() - began
        cpu = time.process_time() - cpu
    finally:
        await stop()
        await fake.stop()
    rejected = fake.rejected
    if rejected:
        raise SystemExit(f"{name}: the fake Bot API refused {len(rejected)} calls: {rejected[:2]}")
    return Result(name, updates, seconds, cpu)


def real_bot(database_url: str) -> Runner:
    async def start(fake: FakeTelegram) -> Callable[[], Awaitable[None]]:
        from tests.auxil.app import make_settings
        from tests.auxil.telegram import start_bot

        settings = make_settings(
            database_url,
            telegram_bot_token=TOKEN,
            telegram_api_base_url=fake.base_url,
            outbox_rate=0,
            outbox_per_chat_seconds=0,
        )
        app, transport, workers = await start_bot(settings)

        async def stop() -> None:
            await transport.stop()
            await workers.stop()
            await app.close()

        return stop

    return start


def echo_bot() -> Runner:
    async def start(fake: FakeTelegram) -> Callable[[], Awaitable[None]]:
        from datetime import timedelta

        from telegram import Update
        from telegram.ext import Application, ContextTypes, MessageHandler, filters

        async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            assert update.effective_chat is not None and update.effective_message is not None
            await context.bot.send_message(update.effective_chat.id, update.effective_message.text)

        builder = (
            Application.builder()
            .token(TOKEN)
            .base_url(fake.base_url)
            .concurrent_updates(CONCURRENT_UPDATES)
            .connection_pool_size(CONNECTIONS)
            .pool_timeout(POOL_TIMEOUT)
            .job_queue(None)
        )
        application = builder.build()
        application.add_handler(MessageHandler(filters.TEXT, echo))
        await application.initialize()
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=0.0,
            timeout=timedelta(seconds=POLL_TIMEOUT),
            allowed_updates=["message", "callback_query"],
            drop_pending_updates=False,
        )

        async def stop() -> None:
            assert application.updater is not None
            await application.updater.stop()
            await application.stop()
            await application.shutdown()

        return stop

    return start


async def _admin(url: str, sql: str) -> None:
    from sqlalchemy import text

    from db.session import create_engine

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def with_postgres(run: Callable[[str], Awaitable[Any]]) -> Any:
    from sqlalchemy.engine import make_url

    admin = os.environ.get("KCBOT_TEST_POSTGRES_URL", DEFAULT_PG)
    name = f"kcbot_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await asyncio.wait_for(_admin(admin, f'CREATE DATABASE "{name}"'), 10)
    try:
        url = make_url(admin).set(database=name).render_as_string(hide_password=False)
        return await run(url)
    finally:
        await _admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def run_variant(kind: str, args: argparse.Namespace, tmp: Path) -> Result:
    if kind == "echo":
        return await measure("python-telegram-bot echo", echo_bot(), args.updates, args.chats)
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / f'bench-{uuid.uuid4().hex[:6]}.sqlite3'}"
        return await measure("kcbot, SQLite", real_bot(url), args.updates, args.chats)

    async def on_postgres(url: str) -> Result:
        return await measure("kcbot, PostgreSQL", real_bot(url), args.updates, args.chats)

    result: Result = await with_postgres(on_postgres)
    return result


def profile(kind: str, args: argparse.Namespace, tmp: Path) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    asyncio.run(run_variant(kind, args, tmp))
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(int(os.environ.get("BENCH_PROFILE_LINES", "45")))
    print(f"\n--- cProfile of {kind}, by cumulative time ---")
    print(out.getvalue())
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
    print(f"\n--- cProfile of {kind}, by own time ---")
    print(out.getvalue())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--profile", choices=["sqlite", "postgres", "echo"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if args.profile:
            profile(args.profile, args, tmp)
            return 0
        kinds = ["echo", "sqlite"] + ([] if args.no_postgres else ["postgres"])
        results: dict[str, Result] = {}
        for kind in kinds:
            try:
                results[kind] = asyncio.run(run_variant(kind, args, tmp))
            except (OSError, TimeoutError) as exc:
                if kind != "postgres":
                    raise
                print(f"PostgreSQL skipped: {exc!r}", file=sys.stderr)

    echo = results["echo"].rate
    print(
        f"\n{args.updates} updates over {args.chats} chats; rate limits lifted; "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    print(f"{'variant':28} {'seconds':>8} {'updates/s':>10} {'bot/echo':>9} {'CPU ms/update':>14}")
    for result in results.values():
        print(
            f"{result.name:28} {result.seconds:8.2f} {result.rate:10.0f} {result.rate / echo:9.2f}"
            f" {1000 * result.cpu / result.updates:14.2f}"
        )
    worst = min(r.rate for k, r in results.items() if k != "echo") / echo
    print(f"\nlowest bot/echo ratio: {worst:.2f} (target ≥ 0.8)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
