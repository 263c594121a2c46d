"""`kcbot zalo-oa set-tokens ACCESS REFRESH` and `kcbot zalo-oa status`: the OA's tokens."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import Any

# Zalo's access tokens last 25 hours (expires_in 90000).
ACCESS_TOKEN_SECONDS = 90000


def register(root: Any) -> None:
    oa = root.add_parser("zalo-oa", help="Zalo Official Account: tokens")
    sub = oa.add_subparsers(dest="zalo_command", metavar="ACTION", required=True)
    p = sub.add_parser("set-tokens", help="store the access and refresh tokens from Zalo")
    p.add_argument("access_token")
    p.add_argument("refresh_token")
    p.add_argument(
        "--expires-in",
        type=int,
        default=ACCESS_TOKEN_SECONDS,
        help="seconds the access token is still valid (default 90000 = 25 h)",
    )
    p.set_defaults(func=cmd_set_tokens)
    s = sub.add_parser("status", help="when the access token expires, the last refresh")
    s.set_defaults(func=cmd_status)


async def _with_repo(settings: Any, work: Any) -> Any:
    from db.migrate import upgrade
    from db.repos.zalo import ZaloTokenRepo
    from db.session import create_engine, session_factory

    engine = create_engine(settings.database_url, file_mode=settings.file_mode_bits)
    try:
        await upgrade(engine)
        async with session_factory(engine)() as session, session.begin():
            return await work(ZaloTokenRepo(session))
    finally:
        await engine.dispose()


async def cmd_set_tokens(
    args: argparse.Namespace, settings: Any, now: datetime | None = None
) -> int:
    from knowledge.formats import datetime_text

    moment = now or datetime.now(UTC)
    access, refresh = args.access_token.strip(), args.refresh_token.strip()
    if not access or not refresh or args.expires_in <= 0:
        print("Cần mã truy cập, mã làm mới và thời hạn dương.")
        return 2
    expires = moment + timedelta(seconds=args.expires_in)

    async def work(repo: Any) -> None:
        await repo.seed(access, refresh, expires, moment)

    await _with_repo(settings, work)
    print(f"Đã lưu mã Zalo OA. Mã truy cập hết hạn lúc {datetime_text(expires)}.")
    return 0


async def cmd_status(args: argparse.Namespace, settings: Any, now: datetime | None = None) -> int:
    from knowledge.formats import datetime_text

    moment = now or datetime.now(UTC)

    async def work(repo: Any) -> tuple[Any, Any, int, int]:
        return (
            await repo.current(),
            await repo.last_refresh(),
            await repo.billed_count(),
            await repo.outside_window_count(),
        )

    row, last, billed, outside = await _with_repo(settings, work)
    if row is None:
        print("Chưa có mã Zalo OA. Chạy: kcbot zalo-oa set-tokens MÃ_TRUY_CẬP MÃ_LÀM_MỚI")
        return 1
    left = row.expires_at - moment
    state = "còn hạn" if left.total_seconds() > 0 else "đã hết hạn (bot sẽ tự làm mới)"
    print(f"Mã truy cập hết hạn lúc {datetime_text(row.expires_at)}: {state}.")
    print(f"Lần làm mới gần nhất: {datetime_text(last) if last else 'chưa có'}.")
    print(f"Tin nhắn tính phí (48 giờ – 7 ngày sau tương tác): {billed}.")
    print(f"Tin không gửi được vì ngoài cửa sổ 7 ngày: {outside}.")
    return 0
