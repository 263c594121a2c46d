"""The staff pages with 10,000 drafts and 50,000 users: render time of each list page.

Run from the repository root::

    python bench/web_pages.py [--drafts 10000] [--users 50000] [--requests 60] [--no-postgres]

The real ``/admin/`` pages (``bot.web.mount_admin`` on the shared aiohttp server, as
``kcbot run`` serves them) on a seeded database, fetched by a logged-in HTTP client one
request after another: the «Hồ sơ» list (first page, a page in the middle, the last page,
and filtered by status, province, support content and dates), the XLSX export of one
province, one draft, «Tổng quan», and «Người dùng & vai trò» when that page exists. The
baseline, measured in the same run, is the login page (no database work beyond the
browser session). p50 / p95 / max per page, on SQLite and PostgreSQL.

Target: every list page p95 < 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.telegram_throughput import with_postgres  # noqa: E402

TARGET_MS = 300
PASSWORD = "mat-khau-do-hieu-nang"
CHANNELS = ("telegram", "zalo_oa", "zalo_bot")


@dataclass
class Timing:
    page: str
    samples: list[float]
    status: int
    size: int

    def line(self, backend: str) -> str:
        ms = sorted(s * 1000 for s in self.samples)
        p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
        return (
            f"{backend:11} {self.page:38} {statistics.median(ms):>7.1f} {p95:>7.1f} "
            f"{ms[-1]:>7.1f} {self.size / 1024:>7.0f} {self.status:>4}"
        )

    @property
    def p95_ms(self) -> float:
        ms = sorted(s * 1000 for s in self.samples)
        return ms[min(len(ms) - 1, int(len(ms) * 0.95))]


async def seed(app: Any, drafts: int, users: int) -> None:
    """``users`` chats over three channels (a fifth subscribed to reminders), the first
    ``drafts`` of them with one draft each over 60 days, every status, 34 provinces, every
    support content, and a history line per draft."""
    from sqlalchemy import insert, select

    from db.models.core import User
    from db.models.drafts import STATUSES, Draft, DraftEvent
    from db.models.events import Subscription
    from knowledge.places import all_provinces
    from knowledge.support import catalogue

    rng = random.Random(7)
    now = datetime.now(UTC)
    provinces = all_provinces()
    supports = list(catalogue().types)
    user_rows = [
        {
            "channel": CHANNELS[i % 3],
            "chat_id": str(10_000_000 + i),
            "user_id": str(10_000_000 + i),
            "display_name": f"Người dùng {i}",
            "role": "owner",
            "unreachable": False,
            "first_seen": now - timedelta(minutes=i),
            "last_seen": now,
        }
        for i in range(users)
    ]
    async with app.sessions() as session, session.begin():
        for start in range(0, len(user_rows), 5000):
            await session.execute(insert(User), user_rows[start : start + 5000])
        ids = [
            (uid, ch, chat)
            for uid, ch, chat in (
                await session.execute(select(User.id, User.channel, User.chat_id).order_by(User.id))
            ).all()
        ]
        await session.execute(
            insert(Subscription),
            [
                {
                    "user_id": uid,
                    "active": True,
                    "kinds": [],
                    "sectors": [],
                    "created_at": now,
                    "updated_at": now,
                    "province": None,
                }
                for uid, _, _ in ids[::5]
            ],
        )
        draft_rows = []
        for n, (uid, channel, chat) in enumerate(ids[:drafts]):
            province = provinces[n % len(provinces)]
            created = now - timedelta(minutes=rng.randrange(60 * 24 * 60))
            status = STATUSES[n % len(STATUSES)]
            draft_rows.append(
                {
                    "user_id": uid,
                    "channel": channel,
                    "chat_id": chat,
                    "status": status,
                    "support_type": supports[n % len(supports)],
                    "facility_name": f"Cơ sở sản xuất số {n} <b>&</b>",
                    "facility_kind": "hkd",
                    "owner_name": f"Nguyễn Văn {n}",
                    "phone": f"09{n:08d}",
                    "province": province.name,
                    "province_code": province.code,
                    "commune": "Xã Thử Nghiệm",
                    "sector": "Thủ công mỹ nghệ",
                    "products": "Bàn ghế mây tre",
                    "workers": 12,
                    "plan": "Mua máy chà nhám",
                    "estimated_cost": 350_000_000,
                    "counterpart_funds": 200_000_000,
                    "estimated_support": 175_000_000,
                    "expected_results": "Tăng năng suất 30%",
                    "needs_review": n % 7 == 0,
                    "review_notes": [],
                    "answers": {},
                    "created_at": created,
                    "updated_at": created,
                    "confirmed_at": None if status in ("in_progress", "abandoned") else created,
                }
            )
        for start in range(0, len(draft_rows), 2000):
            await session.execute(insert(Draft), draft_rows[start : start + 2000])
        draft_ids = (await session.scalars(select(Draft.id))).all()
        await session.execute(
            insert(DraftEvent),
            [
                {
                    "draft_id": d,
                    "at": now,
                    "actor": "bench",
                    "kind": "status",
                    "from_status": "in_progress",
                    "to_status": "draft",
                    "note": None,
                }
                for d in draft_ids
            ],
        )


async def login(app: Any, client: Any) -> None:
    import re

    from bot.web.logins import add_login

    async with app.sessions() as session, session.begin():
        await add_login(session, "bench", PASSWORD, "admin", datetime.now(UTC), "bench")
    async with client.get("/admin/login") as response:
        token = re.search(r'name="csrf_token" value="([^"]+)"', await response.text())
    assert token is not None
    data = {
        "username": "bench",
        "password": PASSWORD,
        "csrf_token": token.group(1),
        "next": "/admin/",
    }
    async with client.post("/admin/login", data=data, allow_redirects=False) as response:
        assert response.status == 303, await response.text()


async def measure(client: Any, name: str, path: str, requests: int, warmup: int = 3) -> Timing:
    samples: list[float] = []
    status = size = 0
    for i in range(requests + warmup):
        started = time.perf_counter()
        async with client.get(path, allow_redirects=False) as response:
            body = await response.read()
        if i >= warmup:  # the first requests warm caches (templates, statements)
            samples.append(time.perf_counter() - started)
        status, size = response.status, len(body)
    return Timing(name, samples, status, size)


async def run(url: str, args: argparse.Namespace) -> list[Timing]:
    import aiohttp

    from bot.app import build_app
    from bot.transports.http import WebServer
    from bot.web import mount_admin
    from bot.web.pages import discover
    from knowledge.places import match_province
    from tests.auxil.app import make_settings

    app = await build_app(make_settings(url))
    started = time.perf_counter()
    await seed(app, args.drafts, args.users)
    print(
        f"  seeded {args.drafts:,} drafts, {args.users:,} users in "
        f"{time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    server = WebServer("127.0.0.1", 0)
    mount_admin(server, app, app.settings)
    await server.start()
    base = f"http://127.0.0.1:{server.bound_port}"
    jar = aiohttp.CookieJar(unsafe=True)
    timings: list[Timing] = []
    try:
        async with aiohttp.ClientSession(base, cookie_jar=jar) as anonymous:
            timings.append(
                await measure(anonymous, "baseline: login page", "/admin/login", args.requests)
            )
        async with aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as c:
            await login(app, c)
            code = match_province("Quảng Ngãi")[0].code
            today = datetime.now(UTC).date()
            middle = max(1, args.drafts // 50 // 2)
            pages = [
                ("Hồ sơ, trang 1", "/admin/drafts"),
                (f"Hồ sơ, trang {middle}", f"/admin/drafts?page={middle}"),
                ("Hồ sơ, trang cuối", "/admin/drafts?page=100000"),
                ("Hồ sơ, lọc trạng thái", "/admin/drafts?status=submitted"),
                ("Hồ sơ, lọc tỉnh", f"/admin/drafts?province={code}"),
                (
                    "Hồ sơ, lọc nội dung + ngày",
                    f"/admin/drafts?support=machinery&from={today - timedelta(days=14)}&to={today}",
                ),
                (
                    "Hồ sơ, 4 bộ lọc",
                    f"/admin/drafts?status=draft&province={code}&support=machinery"
                    f"&from={today - timedelta(days=30)}",
                ),
                ("Hồ sơ #1", "/admin/drafts/1"),
                ("Tổng quan", "/admin/"),
            ]
            paths = {p.path for p, _ in discover()}
            if "users" in paths:
                pages += [
                    ("Người dùng, trang 1", "/admin/users"),
                    ("Người dùng, trang cuối", "/admin/users?page=100000"),
                ]
            for name, path in pages:
                timings.append(await measure(c, name, path, args.requests))
            timings.append(
                await measure(c, "Hồ sơ: Excel tất cả", "/admin/drafts/export?status=all", 3, 0)
            )
            timings.append(
                await measure(
                    c,
                    "Hồ sơ: Excel một tỉnh (~300 dòng)",
                    f"/admin/drafts/export?province={code}",
                    max(5, args.requests // 6),
                )
            )
    finally:
        await server.stop()
        await app.close()
    return timings


async def variants(args: argparse.Namespace, tmp: Path) -> list[tuple[str, list[Timing]]]:
    out = [
        ("SQLite", await run(f"sqlite+aiosqlite:///{tmp / f'web-{uuid.uuid4().hex[:6]}.db'}", args))
    ]
    if not args.no_postgres:
        out.append(("PostgreSQL", await with_postgres(lambda url: run(url, args))))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--drafts", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=60, help="requests per page")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp_name:
        results = asyncio.run(variants(args, Path(tmp_name)))
    print(
        f"\n{args.drafts:,} drafts, {args.users:,} users; {args.requests} requests per page, "
        "one at a time; times in ms"
    )
    print(f"{'database':11} {'page':38} {'p50':>7} {'p95':>7} {'max':>7} {'KiB':>7} {'HTTP':>4}")
    worst = 0.0
    for backend, timings in results:
        for t in timings:
            print(t.line(backend))
            if not t.page.startswith(("baseline", "Hồ sơ: Excel")):
                worst = max(worst, t.p95_ms)
    verdict = "met" if worst < TARGET_MS else "MISSED"
    print(f"\ntarget: every page p95 < {TARGET_MS} ms — worst p95 {worst:.1f} ms: {verdict}")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
