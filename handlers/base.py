"""What every handler receives and implements.

A feature (FAQ, intake, reminders, ...) is one object with a ``name``; that name is both the
prefix of its button payloads (``name:action[:arg]``) and the name of the dialogue it owns.
The engine calls:

- ``on_button(ctx, action, arg)`` when a button with the feature's prefix is tapped;
- ``on_text(ctx)`` for free text (or a shared phone number) while the chat is in the
  feature's dialogue;
- ``on_command(ctx, command, args)`` for the slash commands it lists in ``commands``.

A dialogue feature may also define ``reprompt(ctx)`` (the current step's question again,
used after a stale button or a sticker) and ``numeric_steps`` (steps whose answer is a
number, so that on channels without buttons "5" is not taken as the fifth button).

A handler reads and changes ``ctx.state`` (saved by the engine after the handler returns,
in the same transaction) and asks repositories for data with ``ctx.session``. It returns
channel-neutral ``Reply`` objects and never imports a transport.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.channels import PLAIN, Capabilities
from bot.settings import Settings
from bot.types import Button, Incoming, Reply

if TYPE_CHECKING:
    from db.repos.core import SeenUser
    from knowledge.kb import KnowledgeBase


@dataclass
class DialogueState:
    """The chat's place in a dialogue; persisted per message."""

    dialogue: str | None = None
    step: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Services:
    """Long-lived things handlers may use; one instance per process."""

    settings: Settings
    now: Callable[[], datetime]
    kb: KnowledgeBase | None = None
    # Anything a later feature needs (e.g. province data) without widening this class.
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    incoming: Incoming
    state: DialogueState
    user: SeenUser
    # The message's database connection, inside its transaction.
    connection: AsyncConnection
    services: Services
    router: Router
    _session: AsyncSession | None = field(default=None, repr=False)
    # What the user's channel can show (the renderer adapts replies; a few questions are
    # worded differently, e.g. "tap «Share phone number»" only where that button exists).
    capabilities: Capabilities = PLAIN
    # What a handler found while handling this one message (e.g. the intake's draft row),
    # for the hooks it calls later; never saved.
    scratch: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def session(self) -> AsyncSession:
        """An ORM session joined to the message's transaction, made on first use (most
        messages, like a menu tap, need none)."""
        if self._session is None:
            self._session = AsyncSession(bind=self.connection, expire_on_commit=False)
        return self._session

    async def close_session(self) -> None:
        """Write what the handler changed through the session, and release it."""
        if self._session is not None:
            try:
                await self._session.flush()
            finally:
                await self._session.close()

    @property
    def text(self) -> str:
        """The message text, stripped; empty for buttons and contacts."""
        return (self.incoming.text or "").strip()

    @property
    def settings(self) -> Settings:
        return self.services.settings

    def start(self, dialogue: str, step: str, data: dict[str, Any] | None = None) -> None:
        self.state.dialogue = dialogue
        self.state.step = step
        self.state.data = dict(data or {})

    def finish(self) -> None:
        self.state.dialogue = None
        self.state.step = None
        self.state.data = {}


class Feature:
    """Base class: a feature overrides what it handles."""

    name: str = ""
    # slash command (without "/") -> description shown in the client's command list
    commands: dict[str, str] = {}
    numeric_steps: frozenset[str] = frozenset()

    async def on_button(self, ctx: Context, action: str, arg: str) -> list[Reply]:
        return await ctx.router.stale_button(ctx)

    async def on_text(self, ctx: Context) -> list[Reply]:
        # A dialogue this feature doesn't continue: leave it and treat the text afresh.
        ctx.finish()
        return await ctx.router.free_text(ctx)

    async def on_command(self, ctx: Context, command: str, args: str) -> list[Reply]:
        return await ctx.router.unknown_command(ctx)


class Router:
    """Finds the feature for a message. Built once from the list of features."""

    def __init__(self, features: list[Feature]) -> None:
        self.features: dict[str, Feature] = {}
        self.commands: dict[str, Feature] = {}
        for feature in features:
            if feature.name in self.features:
                raise ValueError(f"two features named {feature.name!r}")
            self.features[feature.name] = feature
            for command in feature.commands:
                self.commands[command] = feature

    def get(self, name: str) -> Feature | None:
        return self.features.get(name)

    @property
    def command_list(self) -> list[tuple[str, str]]:
        return [(c, f.commands[c]) for c, f in self.commands.items()]

    async def dispatch(self, ctx: Context) -> list[Reply]:
        incoming = ctx.incoming
        if incoming.payload is not None:
            name, _, rest = incoming.payload.partition(":")
            action, _, arg = rest.partition(":")
            feature = self.features.get(name)
            if feature is None or not action:
                return await self.stale_button(ctx)
            return await feature.on_button(ctx, action, arg)
        text = ctx.text
        if text.startswith("/"):
            word, _, args = text[1:].partition(" ")
            command = word.split("@", 1)[0].lower()
            feature = self.commands.get(command)
            if feature is None:
                return await self.unknown_command(ctx)
            return await feature.on_command(ctx, command, args.strip())
        if ctx.state.dialogue:
            feature = self.features.get(ctx.state.dialogue)
            if feature is not None:
                return await feature.on_text(ctx)
            ctx.finish()  # a dialogue whose feature is gone (removed in an upgrade)
        return await self.free_text(ctx)

    # The fallbacks below belong to the "menu" feature, which every bot has.
    def _menu(self) -> Any:
        return self.features["menu"]

    async def free_text(self, ctx: Context) -> list[Reply]:
        return await self._menu().free_text(ctx)  # type: ignore[no-any-return]

    async def stale_button(self, ctx: Context) -> list[Reply]:
        return await self._menu().stale_button(ctx)  # type: ignore[no-any-return]

    async def unknown_command(self, ctx: Context) -> list[Reply]:
        return await self._menu().unknown_command(ctx)  # type: ignore[no-any-return]


async def consent_gate(ctx: Context, then_payload: str) -> list[Reply] | None:
    """Before a feature stores the first personal field: None when the user has agreed to
    the data notice (or no privacy feature is installed), else the notice to show; agreeing
    continues with ``then_payload``. Features ask through the router, never import it."""
    privacy: Any = ctx.router.get("privacy")
    if privacy is None:
        return None
    return await privacy.gate(ctx, then_payload)  # type: ignore[no-any-return]


def button(label: str, feature: str, action: str, arg: str = "") -> Button:
    payload = f"{feature}:{action}" + (f":{arg}" if arg else "")
    return Button(label, payload)
