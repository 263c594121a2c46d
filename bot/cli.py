"""`kcbot`: the command line. Imports stay lazy so that quick commands start fast."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any

# Modules adding sub-commands, and what their ``register`` receives.
COMMAND_MODULES = {
    "bot.cli_kb": ("kb",),  # kcbot kb check|import|export
    "bot.cli_ask": ("root", "kb"),  # kcbot ask, kcbot kb unanswered
    "bot.cli_drafts": ("root",),  # kcbot drafts ...
    "bot.cli_events": ("root",),  # kcbot events|reminders|outbox ...
    "bot.cli_data": ("root",),  # kcbot data prune
    "bot.cli_zalo": ("root",),  # kcbot zalo-oa set-tokens|status
    "bot.cli_tickets": ("root",),  # kcbot tickets list|reply|close
    "bot.cli_leads": ("root",),  # kcbot leads list|export|set-status
    "bot.cli_users": ("root",),  # kcbot users list|grant|revoke|invite
    "bot.cli_broadcast": ("root",),  # kcbot broadcast send|list|status|cancel
    "bot.cli_staff": ("root",),  # kcbot staff add-login|passwd|remove-login|link|logins
}

DESCRIPTION = """\
Trợ lý Khuyến công – chatbot for khuyến công centres and rural facilities.

Everyday commands:
  kcbot run           serve the configured channels (Telegram, Zalo) and workers
  kcbot chat          talk to the bot in this terminal (no token needed)
  kcbot web           serve the web chat (/chat) and the staff pages (/admin/) alone
  kcbot db upgrade    create or update the database
  kcbot ask "..."     answer one question from the knowledge base
Settings come from environment variables (see README), e.g. TELEGRAM_BOT_TOKEN, ZALO_BOT_TOKEN.
"""

Command = Callable[[argparse.Namespace, Any], Coroutine[Any, Any, int]]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kcbot", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="serve every configured channel until stopped")
    run.set_defaults(func=_cmd_run)

    chat = sub.add_parser("chat", help="talk to the bot in the terminal")
    chat.add_argument("--as", dest="chat_id", help="chat id to use (default: your login)")
    chat.add_argument(
        "--web",
        action="store_true",
        help="also serve the web chat and the staff pages on KCBOT_LISTEN_HOST:PORT",
    )
    chat.set_defaults(func=_cmd_chat)

    web = sub.add_parser("web", help="serve the web chat and the staff pages, no messaging channel")
    web.set_defaults(func=_cmd_web)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser("upgrade", help="apply pending migrations").set_defaults(func=_cmd_db_upgrade)

    kb = sub.add_parser("kb", help="knowledge base: check, import, export, unanswered")
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="ACTION", required=True)

    groups = {"root": sub, "kb": kb_sub}
    for module_name, wanted in COMMAND_MODULES.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.register(*(groups[name] for name in wanted))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Command | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 0
    from sqlalchemy.exc import SQLAlchemyError

    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Library chatter (HTTP requests per poll) hides what matters at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from bot.logs import install as clean_logs  # no token or phone in any log line

    clean_logs(settings)
    try:
        return asyncio.run(func(args, settings))
    except KeyboardInterrupt:
        return 130
    except (OSError, SQLAlchemyError) as exc:
        # An unreachable database (or disk) is a fact to state, not a traceback.
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        print(f"Không kết nối được cơ sở dữ liệu hoặc tệp: {reason}", file=sys.stderr)
        return 1


async def _cmd_db_upgrade(args: argparse.Namespace, settings: Any) -> int:
    from db.migrate import upgrade
    from db.session import create_engine

    engine = create_engine(settings.database_url, file_mode=settings.file_mode_bits)
    try:
        changed = await upgrade(engine)
    finally:
        await engine.dispose()
    print("Đã cập nhật cơ sở dữ liệu." if changed else "Cơ sở dữ liệu đã ở phiên bản mới nhất.")
    return 0


async def _cmd_chat(args: argparse.Namespace, settings: Any) -> int:
    from bot.app import build_app
    from bot.transports.terminal import chat

    # The terminal is the chat window: only warnings and errors may interrupt it.
    root = logging.getLogger()
    root.setLevel(max(root.level, logging.WARNING))
    app = await build_app(settings)
    beside = None
    if args.web:
        from bot.runner import WebBeside

        beside = WebBeside(app, settings)
        try:
            await beside.start()
        except OSError as exc:
            beside = None
            print(
                f"Không mở được trang web trên cổng {settings.listen_port} ({exc.strerror or exc});"
                " đặt KCBOT_LISTEN_PORT sang cổng khác. Vẫn trò chuyện được trên terminal.",
                flush=True,
            )
        else:
            print(web_banner(beside.transport.address), flush=True)
    try:
        await chat(app.engine, chat_id=args.chat_id)
    finally:
        if beside is not None:
            await beside.stop()
        await app.close()
    return 0


def web_banner(chat_address: str) -> str:
    """Where the web pages are and how to get a staff login (first lines of dev.py start)."""
    base = chat_address.rsplit("/chat", 1)[0]
    return (
        f"Trò chuyện trên web: {chat_address}\n"
        f"Trang cán bộ: {base}/admin/\n"
        "  Tạo tài khoản đăng nhập: python3 dev.py kcbot staff add-login TEN --role admin"
    )


async def _cmd_web(args: argparse.Namespace, settings: Any) -> int:
    from bot.runner import serve
    from bot.transports.web import PATH, local_address

    address = local_address(settings.listen_host, settings.listen_port) + PATH
    print(web_banner(address), flush=True)
    try:
        await serve(settings, web_only=True)
    except OSError as exc:
        print(
            f"Không mở được cổng {settings.listen_port} ({exc.strerror or exc}):"
            " đặt KCBOT_LISTEN_PORT sang cổng khác.",
            file=sys.stderr,
        )
        return 1
    return 0


async def _cmd_run(args: argparse.Namespace, settings: Any) -> int:
    from telegram.error import InvalidToken

    from bot.runner import NoChannelConfigured, serve
    from bot.transports.zalo_bot import ZaloBotApiError

    try:
        await serve(settings)
    except NoChannelConfigured as exc:
        print(exc, file=sys.stderr)
        return 2
    except ZaloBotApiError as exc:
        print(f"The Zalo Bot API refused ZALO_BOT_TOKEN or the webhook ({exc}).", file=sys.stderr)
        return 2
    except InvalidToken as exc:
        print(
            f"Telegram refused TELEGRAM_BOT_TOKEN ({exc}): check it with @BotFather.",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
