"""Build the real app on a test database, and talk to its engine like a user would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from itertools import count
from typing import Any

import pytest

from bot.app import App, build_app
from bot.settings import Settings
from bot.types import Incoming, Reply

_update_ids = count(1)


def make_settings(db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "centre_name": "Trung tâm Khuyến công tỉnh Thử Nghiệm",
        "centre_phone": "0235 3812 345",
        "centre_address": "12 Trần Phú, phường Hội An",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class ChatUser:
    """One user chatting through the engine; keeps the last buttons to tap by label."""

    def __init__(
        self,
        app: App,
        chat_id: str = "1001",
        channel: str = "telegram",
        name: str = "Nguyễn Văn An",
    ) -> None:
        self.app, self.chat_id, self.channel, self.name = app, chat_id, channel, name
        self.last: list[Reply] = []

    async def send(
        self,
        text: str | None = None,
        *,
        payload: str | None = None,
        phone: str | None = None,
        update_id: str | None = None,
    ) -> list[Reply]:
        incoming = Incoming(
            channel=self.channel,
            chat_id=self.chat_id,
            user_id=self.chat_id,
            display_name=self.name,
            text=text,
            payload=payload,
            phone=phone,
            update_id=update_id if update_id is not None else str(next(_update_ids)),
            time=datetime.now(UTC),
        )
        self.last = await self.app.engine.handle(incoming)
        return self.last

    async def tap(self, label_part: str) -> list[Reply]:
        """Tap the button of the last replies whose label contains ``label_part``."""
        for reply in reversed(self.last):
            for b in reply.all_buttons():
                if label_part.lower() in b.label.lower():
                    return await self.send(payload=b.payload)
        labels = [b.label for r in self.last for b in r.all_buttons()]
        raise AssertionError(f"no button {label_part!r} in {labels}")

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.last)

    @property
    def payloads(self) -> list[str]:
        return [b.payload for r in self.last for b in r.all_buttons()]

    @property
    def labels(self) -> list[str]:
        return [b.label for r in self.last for b in r.all_buttons()]


@pytest.fixture
async def app(db_url: str) -> AsyncIterator[App]:
    """The real app (migrations, knowledge base, features) on SQLite and PostgreSQL."""
    from bot.transports.telegram import CAPABILITIES

    application = await build_app(make_settings(db_url))
    # As if the Telegram transport had started: its users tap buttons (ChatUser's default).
    application.engine.capabilities["telegram"] = CAPABILITIES
    yield application
    await application.close()
