"""Zalo OA webhook acknowledgement time: how fast does Zalo get its 200?

Run from the repository root::

    python bench/zalo_webhook_ack.py [--seconds 30] [--rate 50] [--users 200] [--no-postgres]

The real bot as ``kcbot run`` assembles it (``bot.runner.serve``: the shared webhook server,
the Zalo OA transport, inbox worker, engine, outbox) runs in this process against the fake
OA API. Signed ``user_send_text`` events are POSTed at ``--rate`` per second from
``--users`` users for ``--seconds``; the acknowledgement time is the POST's round trip
(signature check, the insert into the inbox, the 200) while the bot answers the earlier
events at the same time. The same-run baseline is a bare aiohttp server that checks the
signature and answers 200 without storing anything. The load generator shares the
process and its event loop, so the figures include its own cost.

Target: p99 under 200 ms (Zalo gives up after 2 s), on SQLite and PostgreSQL.
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
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from bench.telegram_throughput import with_postgres  # noqa: E402
from tests.auxil.fake_zalo import APP_ID, OA_SECRET, FakeZaloOA, post_event  # noqa: E402


def line(name: str, lat: list[float], replies: int | None) -> str:
    lat = sorted(lat)
    pick = [statistics.median(lat), lat[int(len(lat) * 0.95)], lat[int(len(lat) * 0.99)], lat[-1]]
    ms = " ".join(f"{v * 1000:8.1f}" for v in pick)
    answered = "" if replies is None else f"{replies:8d}"
    return f"{name:30} {len(lat):7d} {ms} {answered}"


async def load(
    url: str, fake: FakeZaloOA, args: argparse.Namespace
) -> tuple[list[float], list[int]]:
    latencies: list[float] = []
    statuses: list[int] = []
    total = int(args.seconds * args.rate)
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one(i: int) -> None:
            event = fake.event("user_send_text", f"u{i % args.users}", text="hỗ trợ máy móc")
            started = time.perf_counter()
            statuses.append(await post_event(url, event, http=http))
            latencies.append(time.perf_counter() - started)

        t0 = time.perf_counter()
        tasks = []
        for i in range(total):
            delay = t0 + i / args.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
    return latencies, statuses


async def real_bot(name: str, db_url: str, args: argparse.Namespace) -> str:
    from tests.auxil.zalo import oa_settings, seed_tokens, serve_in_background, settings_for

    fake = await FakeZaloOA().start()
    try:
        await seed_tokens(db_url, fake.access_token, fake.refresh_token)
        settings = settings_for(db_url, **oa_settings(db_url, fake))
        served = await serve_in_background(settings)
        try:
            latencies, statuses = await load(served.url("/zalo/oa"), fake, args)
            await asyncio.sleep(2)
        finally:
            await served.stop()
        assert set(statuses) == {200}, set(statuses)
        return line(name, latencies, len(fake.sent))
    finally:
        await fake.stop()


async def bare_server(args: argparse.Namespace) -> str:
    from bot.transports.zalo_oa import signature_ok

    async def handler(request: web.Request) -> web.Response:
        raw = await request.read()
        ok = signature_ok(raw, request.headers.get("X-ZEvent-Signature"), APP_ID, OA_SECRET)
        return web.Response(status=200 if ok else 403)

    app = web.Application()
    app.router.add_post("/hook", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake = FakeZaloOA()
    try:
        latencies, statuses = await load(f"http://127.0.0.1:{port}/hook", fake, args)
    finally:
        await runner.cleanup()
    assert set(statuses) == {200}
    return line("bare aiohttp (baseline)", latencies, None)


async def variants(args: argparse.Namespace, tmp: Path) -> list[str]:
    lines = [await bare_server(args)]
    url = f"sqlite+aiosqlite:///{tmp / f'ack-{uuid.uuid4().hex[:6]}.sqlite3'}"
    lines.append(await real_bot("kcbot, SQLite", url, args))
    if not args.no_postgres:
        on_pg: Callable[[str], Awaitable[Any]] = lambda pg: real_bot("kcbot, PostgreSQL", pg, args)  # noqa: E731
        lines.append(await with_postgres(on_pg))
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp_name:
        lines = asyncio.run(variants(args, Path(tmp_name)))
    print(
        f"\n{args.rate:g} signed OA events/s from {args.users} users for {args.seconds:g} s; "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    print(
        f"{'variant':30} {'events':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'replies':>8}"
    )
    for text in lines:
        print(text)
    print("\ntarget: p99 < 200 ms (Zalo waits 2 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
