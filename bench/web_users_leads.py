"""The users and leads pages at scale: 50,000 users and 5,000 leads, each list page timed
through the real server with an admin login, next to the login page in the same run.

Run from the repository root::

    python bench/web_users_leads.py [--users 50000] [--leads 5000] [--rounds 20] [--no-postgres]

The users list pages by keyset on the id (first page, a deep page, filters); the leads list
by page number with its duplicates marked (first page, page 100, filters), and the whole
export once. Target: every list page p95 under 300 ms on SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.app import build_app  # noqa: E402
from bot.transports.http import WebServer  # noqa: E402
from bot.web import mount_admin  # noqa: E402
from db.models.core import User  # noqa: E402
from db.models.handoff import Lead  # noqa: E402
from db.session import create_engine  # noqa: E402
from handlers.leads import name_key  # noqa: E402
from tests.auxil.app import make_settings  # noqa: E402
from tests.auxil.web import AdminSite, http_login, make_login  # noqa: E402

STATUSES = ("new", "contacted", "applied", "ineligible")


async def seed(app: object, users: int, leads: int) -> None:
    now = datetime.now(UTC)
    user_rows = [
        {
            "channel": "zalo_oa" if i % 3 == 0 else "telegram",
            "chat_id": str(i),
            "user_id": str(i),
            "display_name": f"Người {i}",
            "role": "staff" if i % 5000 == 0 else ("collaborator" if i % 100 == 0 else "owner"),
            "unreachable": False,
            "first_seen": now,
            "last_seen": now,
        }
        for i in range(users)
    ]
    lead_rows = [
        {
            "channel": "telegram",
            "chat_id": str((i % 500) * 100),
            "collaborator": f"Người {(i % 500) * 100}",
            "facility_name": f"Cơ sở {i}",
            "name_key": name_key(f"Cơ sở {i}"),
            "owner_name": "Nguyễn Văn An",
            "phone": f"09{i:08d}",
            "province": "Quảng Ngãi",
            "province_code": 51,
            "commune": "Xã Nghĩa Hành",
            "commune_code": 21364 + i % 200,
            "sector": "craft",
            "support": "machinery",
            "notes": "",
            "consent": True,
            "status": STATUSES[i % 4],
            "created_at": now - timedelta(minutes=i),
            "updated_at": now,
        }
        for i in range(leads)
    ]
    async with app.sessions() as session, session.begin():  # type: ignore[attr-defined]
        for k in range(0, users, 5000):
            await session.execute(insert(User), user_rows[k : k + 5000])
        for k in range(0, leads, 5000):
            await session.execute(insert(Lead), lead_rows[k : k + 5000])


async def run(url: str, args: argparse.Namespace) -> None:
    app = await build_app(make_settings(url))
    await seed(app, args.users, args.leads)
    server = WebServer("127.0.0.1", 0)
    mount_admin(server, app, app.settings)
    await server.start()
    await make_login(app, "bench", "admin")
    client = await http_login(AdminSite(app, server), "bench")

    async def measure(label: str, path: str, rounds: int) -> None:
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            async with client.get(path) as response:
                await response.read()
                assert response.status == 200, (path, response.status)
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        p95 = times[max(0, round(len(times) * 0.95) - 1)]
        print(f"  {label:38} p50 {times[len(times) // 2]:7.1f} ms  p95 {p95:7.1f} ms")

    try:
        n = args.rounds
        await measure("login page (baseline)", "/admin/login", n)
        await measure("users: first page", "/admin/users", n)
        await measure("users: deep page (ids below 500)", "/admin/users?below=500", n)
        await measure("users: role staff", "/admin/users?role=staff", n)
        await measure(
            "users: owners on Zalo, deep", "/admin/users?role=owner&channel=zalo_oa&below=1000", n
        )
        await measure("leads: first page", "/admin/leads", n)
        await measure("leads: page 100", "/admin/leads?page=100", n)
        await measure("leads: status + province", "/admin/leads?status=new&province=51", n)
        await measure(f"leads: export of {args.leads}", "/admin/leads/export", 1)
    finally:
        await client.close()
        await server.stop()
        await app.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--leads", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print(f"SQLite ({args.users} users, {args.leads} leads):")
        await run(f"sqlite+aiosqlite:///{folder}/bench.sqlite3", args)
    if args.no_postgres:
        return
    base = os.environ.get(
        "KCBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    )
    name = f"kcbot_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        print(f"PostgreSQL ({args.users} users, {args.leads} leads):")
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
        await run(url, args)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
