"""Settings from environment variables (and an optional ``.env``).

Every setting is documented in the README. Project settings carry the ``KCBOT_`` prefix;
the platforms' own tokens keep their usual names.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/kcbot.sqlite3"


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="KCBOT_", env_file=".env", extra="ignore", populate_by_name=True
    )

    database_url: str = DEFAULT_DATABASE_URL
    log_level: str = "INFO"

    telegram_bot_token: str | None = Field(
        default=None, validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN")
    )
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org/bot",
        validation_alias=AliasChoices("TELEGRAM_API_BASE_URL"),
    )

    webhook_url: str | None = None
    # The public base address of this server's webhooks (Zalo: {base}/zalo/oa, {base}/zalo/bot).
    webhook_base: str | None = None
    webhook_secret: str | None = None
    listen_host: str = "0.0.0.0"
    listen_port: int = Field(default=8080, ge=1, le=65535)
    # The web chat (/chat): messages one address may send a minute.
    web_chat_per_minute: int = Field(default=20, ge=1)

    # Zalo Official Account (OA API v3): the app, the OA's webhook key, the API hosts.
    zalo_app_id: str | None = Field(default=None, validation_alias=AliasChoices("ZALO_APP_ID"))
    zalo_app_secret: str | None = Field(
        default=None, validation_alias=AliasChoices("ZALO_APP_SECRET")
    )
    zalo_oa_secret_key: str | None = Field(
        default=None, validation_alias=AliasChoices("ZALO_OA_SECRET_KEY")
    )
    zalo_oa_api_base_url: str = Field(
        default="https://openapi.zalo.me", validation_alias=AliasChoices("ZALO_OA_API_BASE_URL")
    )
    zalo_oauth_base_url: str = Field(
        default="https://oauth.zaloapp.com", validation_alias=AliasChoices("ZALO_OAUTH_BASE_URL")
    )
    # Zalo's app-wide OA API limit (requests per minute).
    zalo_oa_rate_per_minute: float = Field(default=4000, gt=0)
    # Zalo Bot platform: the bot's token, the API host, the webhook's secret token.
    zalo_bot_token: str | None = Field(
        default=None, validation_alias=AliasChoices("ZALO_BOT_TOKEN")
    )
    zalo_bot_api_base_url: str = Field(
        default="https://bot-api.zaloplatforms.com/bot",
        validation_alias=AliasChoices("ZALO_BOT_API_BASE_URL"),
    )
    zalo_bot_webhook_secret: str | None = Field(
        default=None, validation_alias=AliasChoices("ZALO_BOT_WEBHOOK_SECRET")
    )

    # Deployment's centre contact details: per province, kept out of the code.
    centre_name: str = "Trung tâm Khuyến công tỉnh"
    centre_phone: str | None = None
    centre_address: str | None = None
    centre_hours: str = "Thứ Hai – Thứ Sáu, 7:30–11:30 và 13:30–17:00"
    centre_email: str | None = None

    # Staff web pages (/admin/): how long a login lasts, and whether to believe a reverse
    # proxy's X-Forwarded-Proto (for the cookie's Secure flag) — only behind your own proxy.
    web_session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    web_trust_proxy: bool = False

    # Where the knowledge base is read from (default: the files shipped in knowledge/data).
    kb_path: Path | None = None

    # Reminders (bot/reminders.py): when they go out, in Asia/Ho_Chi_Minh time.
    reminder_offsets_days: str = Field(default="7,1", pattern=r"^\s*\d+(\s*[,;]\s*\d+)*\s*$")
    reminder_opening_day_kinds: str = "trade_fair"
    reminder_hour: int = Field(default=8, ge=0, le=23)
    send_window: str = Field(default="07:00-21:00", pattern=r"^\d{1,2}:\d{2}-\d{1,2}:\d{2}$")
    reminder_check_seconds: float = Field(default=60, gt=0)

    # The outbox sender (bot/outbox.py): Telegram allows about 30 messages/s overall and
    # 1/s per chat.
    outbox_rate: float = Field(default=30, ge=0)
    outbox_burst: float = Field(default=1, gt=0)
    outbox_per_chat_seconds: float = Field(default=1, ge=0)
    outbox_concurrency: int = Field(default=8, ge=1)
    outbox_batch: int = Field(default=100, ge=1)
    outbox_lease_seconds: float = Field(default=120, gt=0)
    outbox_max_attempts: int = Field(default=5, ge=1)
    outbox_backoff_seconds: float = Field(default=2, ge=0)
    outbox_backoff_cap_seconds: float = Field(default=300, ge=0)
    outbox_poll_seconds: float = Field(default=1, gt=0)

    # The inbox (bot/inbox.py): incoming events are stored, then handled by workers.
    inbox_lease_seconds: float = Field(default=30, gt=0)
    # Events handled together in one transaction (a batch). Unset: 32 on SQLite (one
    # connection: webhook acknowledgements wait while a batch holds it), 64 on PostgreSQL.
    inbox_concurrency: int | None = Field(default=None, ge=1)
    inbox_poll_seconds: float = Field(default=1, gt=0)

    # Personal data (handlers/privacy): how long rows are kept before the daily pass (and
    # `kcbot data prune`) deletes them, in days.
    retention_question_days: int = Field(default=180, ge=1)
    retention_outbox_days: int = Field(default=30, ge=1)
    retention_draft_days: int = Field(default=90, ge=1)
    retention_update_days: int = Field(default=7, ge=1)
    # Collaborators' leads that never led to a draft (a third person's name and phone).
    retention_lead_days: int = Field(default=365, ge=1)
    # Permissions of the files the bot creates (SQLite file, exports), octal; folders it
    # creates get the matching mode (600 → 700).
    file_mode: str = Field(default="600", pattern=r"^[0-7]{3}$")

    @property
    def file_mode_bits(self) -> int:
        return int(self.file_mode, 8)

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator(
        "telegram_api_base_url",
        "webhook_url",
        "webhook_base",
        "zalo_oa_api_base_url",
        "zalo_oauth_base_url",
        "zalo_bot_api_base_url",
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// address")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        # Telegram allows 1-256 characters of A-Z a-z 0-9 _ -
        if value is not None:
            import re

            if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
                raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value


_ENV_NAMES = {
    "telegram_bot_token": "TELEGRAM_BOT_TOKEN",
    "telegram_api_base_url": "TELEGRAM_API_BASE_URL",
    "zalo_app_id": "ZALO_APP_ID",
    "zalo_app_secret": "ZALO_APP_SECRET",
    "zalo_oa_secret_key": "ZALO_OA_SECRET_KEY",
    "zalo_oa_api_base_url": "ZALO_OA_API_BASE_URL",
    "zalo_oauth_base_url": "ZALO_OAUTH_BASE_URL",
    "zalo_bot_token": "ZALO_BOT_TOKEN",
    "zalo_bot_api_base_url": "ZALO_BOT_API_BASE_URL",
    "zalo_bot_webhook_secret": "ZALO_BOT_WEBHOOK_SECRET",
}


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one line naming the variable."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        field_name = str(err["loc"][0]) if err["loc"] else "?"
        env = _ENV_NAMES.get(field_name, f"KCBOT_{field_name.upper()}")
        raise SettingsError(f"Setting {env} is invalid: {err['msg']}") from None
    if settings.webhook_url and not settings.webhook_secret:
        raise SettingsError(
            "Setting KCBOT_WEBHOOK_SECRET is missing: webhook mode needs a secret token"
        )
    if settings.webhook_url and not settings.telegram_bot_token:
        raise SettingsError("Setting TELEGRAM_BOT_TOKEN is missing: webhook mode needs it")
    return settings
