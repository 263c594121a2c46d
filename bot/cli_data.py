"""`kcbot data prune [--dry-run]`: apply the retention settings now (the bot does it daily)."""

from __future__ import annotations

import argparse
import getpass
import os
from datetime import UTC, datetime
from typing import Any


def register(root: Any) -> None:
    data = root.add_parser("data", help="personal data: retention")
    sub = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    p = sub.add_parser("prune", help="delete rows kept longer than the retention settings")
    p.add_argument("--dry-run", action="store_true", help="only count, delete nothing")
    p.set_defaults(func=cmd_prune)


def report(counts: dict[str, int], settings: Any, dry_run: bool) -> str:
    from handlers.privacy.retention import days_for
    from handlers.privacy.texts import PRUNE_LABELS

    head = "Chạy thử, chưa xoá gì. Sẽ xoá:" if dry_run else "Đã xoá:"
    lines = [head]
    for key, count in counts.items():
        label = PRUNE_LABELS[key].format(days=days_for(settings, key))
        lines.append(f"  {count:>6}  {label}")
    return "\n".join(lines)


async def cmd_prune(args: argparse.Namespace, settings: Any, now: datetime | None = None) -> int:
    from db.migrate import upgrade
    from db.session import create_engine, session_factory
    from handlers.privacy.retention import prune

    engine = create_engine(settings.database_url, file_mode=settings.file_mode_bits)
    try:
        await upgrade(engine)
        counts = await prune(
            session_factory(engine),
            now or datetime.now(UTC),
            settings,
            dry_run=args.dry_run,
            actor="os:" + os_user(),
        )
    finally:
        await engine.dispose()
    print(report(counts, settings, args.dry_run))
    return 0


def os_user() -> str:
    """The login of the operating-system account running the command: who did it."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment nor the user database
        return f"uid{os.getuid()}"
