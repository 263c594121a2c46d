"""Web chat: how long a visitor waits for the answer, and for the POST's 202.

Run from the repository root::

    python bench/web_chat_latency.py [--visitors 20] [--messages 10] [--think 2] [--no-postgres]

``kcbot web`` as the command assembles it (``bot.runner.serve(web_only=True)``: the web
server, inbox worker, engine, outbox) runs in this process. Each visitor opens the page,
then sends ``--messages`` FAQ questions one after the other, as the page does: POST the
message, then wait on the long-poll (``GET /chat/messages?wait=1``) until the answer is
there, then reads for ``--think`` seconds (20 visitors thinking 2 s offer about 10
messages a second, the load ``reply_latency.py`` uses for Telegram); visitors start at
random moments within the first think time. Reported: the POST's round trip (stored in
the inbox, 202) and the answer's latency (POST sent → answer received), p50/p95/max, on
SQLite and PostgreSQL. The load generator
shares the process and its event loop, so the figures include its own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bot.runner import serve  # noqa: E402
from bot.settings import Settings  # noqa: E402
from db.session import create_engine  # noqa: E402

QUESTIONS = [
    "ho tro may moc thiet bi bao nhieu",
    "hồ sơ gồm những gì",
    "co so nao duoc ho tro",
    "tham gia hội chợ có được hỗ trợ không",
    "hạn nộp hồ sơ khi nào",
]
PG = os.environ.get("KCBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def visitor(
    base: str, messages: int, think: float, acks: list[float], waits: list[float]
) -> None:
    await asyncio.sleep(random.uniform(0, think))
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base, cookie_jar=jar) as http:
        async with http.get("/chat") as response:
            await response.read()
        async with http.get("/chat/messages") as response:
            since = (await response.json())["now"]
        for n in range(messages):
            body = {"id": secrets.token_urlsafe(12), "text": QUESTIONS[n % len(QUESTIONS)]}
            start = time.perf_counter()
            async with http.post("/chat/messages", json=body) as response:
                assert response.status == 202, await response.text()
            acks.append(time.perf_counter() - start)
            while True:
                params = {"since": since, "wait": "1"}
                async with http.get("/chat/messages", params=params) as response:
                    data = await response.json()
                since = data["now"]
                if any(m["who"] == "bot" for m in data["messages"]):
                    break
            waits.append(time.perf_counter() - start)
            await asyncio.sleep(think)  # a person reads before writing again


async def run(url: str, visitors: int, messages: int, think: float) -> None:
    port = 18000 + secrets.randbelow(2000)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        listen_host="127.0.0.1",
        listen_port=port,
        web_chat_per_minute=100_000,
        log_level="WARNING",
    )
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop, web_only=True))
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(base + "/healthz") as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    acks: list[float] = []
    waits: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(visitor(base, messages, think, acks, waits) for _ in range(visitors)))
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    backend = url.split("+")[0]
    rate = len(acks) / elapsed
    print(f"{backend}: {visitors} visitors × {messages} messages, {rate:.1f} messages/s offered")
    for name, values in (("POST → 202", acks), ("POST → answer shown", waits)):
        ms = [v * 1000 for v in values]
        print(
            f"  {name:22} p50 {statistics.median(ms):6.1f} ms  p95 {pct(ms, 95):6.1f} ms"
            f"  max {max(ms):6.1f} ms"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=20)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--think", type=float, default=2.0)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.sqlite3"
        await run(url, args.visitors, args.messages, args.think)
    if args.no_postgres:
        return
    name = f"kcbot_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = PG.rsplit("/", 1)[0] + f"/{name}"
        await run(url, args.visitors, args.messages, args.think)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
