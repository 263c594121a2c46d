"""What a channel can show, and what sending to it can come to — the same words for all.

Each transport declares its ``Capabilities`` and offers a ``Sender`` whose ``send`` returns a
``SendResult`` instead of raising the platform's own errors. The engine, the renderer and
the outbox worker only ever see these, so one outbox serves every channel.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from bot.types import Reply


def char_count(text: str) -> int:
    return len(text)


def utf16_count(text: str) -> int:
    """Length in UTF-16 code units (how Telegram counts: an emoji may count twice)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Capabilities:
    """What one channel can show a user."""

    buttons: bool = False  # tappable choices; without them choices are numbered lines
    max_buttons: int = 0  # 0 = no limit
    request_phone: bool = False  # a "share my phone number" button
    documents: bool = False  # files can be sent
    document_links: bool = False  # files are sent as a download link (the sender stores them)
    max_text: int = 2000  # longest message, in ``measure`` units
    markup: bool = False  # bold/italic markup (the bot sends plain text either way)
    measure: Callable[[str], int] = char_count


# For a channel no transport declared (a test, an old row): show everything as text.
PLAIN = Capabilities()


class Outcome(Enum):
    SENT = "sent"
    RATE_LIMITED = "rate_limited"  # retry after ``retry_after`` seconds; slow down
    UNREACHABLE = "unreachable"  # blocked the bot, left, outside a messaging window
    REJECTED = "rejected"  # the platform refused this message: retrying cannot help
    TRANSIENT = "transient"  # network, timeout, 5xx: retry with backoff


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    retry_after: float = 0.0
    detail: str = ""
    # Why a recipient is unreachable when it is not "blocked" (e.g. "outside_window").
    reason: str = ""

    @classmethod
    def sent(cls) -> SendResult:
        return cls(Outcome.SENT)


class Sender(Protocol):
    """One channel's way out. ``send`` never raises for a platform error."""

    capabilities: Capabilities

    async def send(self, chat_id: str, reply: Reply) -> SendResult: ...


def capabilities_of(senders: Mapping[str, Sender]) -> dict[str, Capabilities]:
    return {channel: sender.capabilities for channel, sender in senders.items()}
