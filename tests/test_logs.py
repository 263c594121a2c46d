"""No bot token and no unmasked phone number in the log, at DEBUG, libraries included."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import install, redact, uninstall
from bot.settings import Settings
from tests.auxil.fake_telegram import TOKEN, FakeTelegram
from tests.auxil.telegram import RunningBot
from tests.handlers.intake.test_telegram import test_whole_intake_on_telegram as whole_intake

PHONE = "0912345678"


@pytest.fixture
def debug_log(telegram_settings: Settings) -> Iterator[io.StringIO]:
    """The root logger at DEBUG (httpx too) into a buffer, cleaned as `kcbot` does it."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    old_level, old_httpx = root.level, logging.getLogger("httpx").level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    install(telegram_settings)
    try:
        yield buffer
    finally:
        uninstall()
        root.removeHandler(handler)
        root.setLevel(old_level)
        logging.getLogger("httpx").setLevel(old_httpx)


async def test_full_intake_at_debug_leaks_no_token_and_no_phone(
    debug_log: io.StringIO, running_bot: RunningBot, fake_telegram: FakeTelegram
):
    await whole_intake(running_bot, fake_telegram)
    logging.getLogger("kcbot.test").debug("owner typed %s", PHONE)
    try:
        raise RuntimeError(f"request to /bot{TOKEN}/sendMessage failed")
    except RuntimeError:
        logging.getLogger("kcbot.test").exception("a library error")
    text = debug_log.getvalue()
    assert len(text.splitlines()) > 50  # the DEBUG log really was written
    # The Bot API client logs every request URL, which carries the token: it is there,
    # redacted.
    assert "Bot API request: POST" in text
    assert "api/bot[REDACTED]/" in text or "/bot[REDACTED]/" in text
    assert TOKEN not in text
    assert TOKEN.split(":", 1)[1] not in text
    for shape in (PHONE, "84912345678", "912345678"):
        assert shape not in text
    assert "*******678" in text


def test_redact_shapes():
    line = "GET https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawX/x"
    assert redact(line) == "GET https://api.telegram.org/bot[REDACTED]/x"
    assert redact("zalo key s3cr3t-value here", ["s3cr3t-value"]) == "zalo key [REDACTED] here"
    assert redact("gọi 0912.345.678 hoặc +84 912 345 678") == "gọi *******678 hoặc ********678"
    # Times, ids and durations stay readable.
    for keep in ("2026-12-01 23:00:01,123", "chat 1001 update 123456789", "took 0.1234567890 s"):
        assert redact(keep) == keep


def test_every_secret_setting_is_redacted(tmp_path):
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url="postgresql+asyncpg://kcbot:db-pass-123@db.example/kcbot",
        telegram_bot_token="42:not-shaped-like-telegram",
        webhook_secret="hook_secret_value",
    )
    buffer = io.StringIO()
    logger = logging.getLogger("kcbot.test.secrets")
    handler = logging.StreamHandler(buffer)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    install(settings)
    try:
        logger.debug("token=%s secret=%s", settings.telegram_bot_token, settings.webhook_secret)
        logger.info("connecting to %s", settings.database_url)
    finally:
        uninstall()
        logger.removeHandler(handler)
    assert buffer.getvalue().splitlines() == [
        "token=[REDACTED] secret=[REDACTED]",
        "connecting to postgresql+asyncpg://kcbot:[REDACTED]@db.example/kcbot",
    ]
