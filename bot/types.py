"""Channel-neutral value types shared by transports, the engine and handlers.

Everything may import this module; it imports nothing from the project.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message from a user, whatever the channel.

    Exactly one of ``text``, ``payload`` (a button the user tapped) or ``phone`` (a shared
    contact) is normally set; ``update_id`` identifies the delivery so that a redelivered
    update is recognised.
    """

    channel: str
    chat_id: str
    user_id: str = ""
    display_name: str | None = None
    text: str | None = None
    payload: str | None = None
    phone: str | None = None
    update_id: str | None = None
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    language: str | None = None


_INCOMING_FIELDS = ("channel", "chat_id", "user_id", "display_name", "text", "payload", "phone")


def incoming_to_json(incoming: Incoming) -> dict[str, Any]:
    """The message as stored in the inbox (times as ISO 8601)."""
    data: dict[str, Any] = {name: getattr(incoming, name) for name in _INCOMING_FIELDS}
    data["update_id"] = incoming.update_id
    data["language"] = incoming.language
    data["time"] = incoming.time.isoformat()
    return data


def incoming_from_json(data: dict[str, Any]) -> Incoming:
    values: dict[str, Any] = {name: data.get(name) for name in _INCOMING_FIELDS}
    values["user_id"] = values["user_id"] or ""
    moment = datetime.fromisoformat(data["time"]) if data.get("time") else datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return Incoming(
        **values, update_id=data.get("update_id"), language=data.get("language"), time=moment
    )


@dataclass(frozen=True, slots=True)
class Button:
    """A choice shown to the user. ``payload`` comes back in ``Incoming.payload``.

    Payloads are ``feature:action[:arg]`` and must fit Telegram's 64-byte callback data.
    """

    label: str
    payload: str

    def __post_init__(self) -> None:
        if not self.label:
            raise ValueError("button label must not be empty")
        if not 1 <= len(self.payload.encode("utf-8")) <= 64:
            raise ValueError(f"button payload must be 1-64 bytes: {self.payload!r}")


@dataclass(frozen=True, slots=True)
class Document:
    """A file handed to the user (e.g. the filled request as DOCX)."""

    filename: str
    content: bytes
    caption: str | None = None
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to send back. ``buttons`` is a list of rows."""

    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    document: Document | None = None
    # Ask the user to share their phone number (Telegram: a reply keyboard button).
    request_phone: bool = False

    def all_buttons(self) -> list[Button]:
        return [b for row in self.buttons for b in row]


def buttons_in_rows(buttons: list[Button], per_row: int = 1) -> list[list[Button]]:
    """Lay buttons out ``per_row`` to a row (phones are narrow: usually one or two)."""
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


JSONDict = dict[str, Any]
