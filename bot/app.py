"""Assembles the bot: settings → database → knowledge → features → engine."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.engine import Engine
from bot.inbox import Inbox
from bot.settings import Settings
from db.migrate import upgrade
from db.session import create_engine, session_factory
from handlers.base import Feature, Router, Services
from handlers.menu import MenuFeature

log = logging.getLogger(__name__)

# Feature modules, each exposing ``feature(services) -> Feature``. Menu is always there.
FEATURE_MODULES = (
    "handlers.faq",
    "handlers.intake",
    "handlers.reminders",
    "handlers.privacy",
    "handlers.tickets",
    "handlers.leads",
    "handlers.staff",
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def load_knowledge(settings: Settings) -> object | None:
    """The FAQ knowledge base; None (FAQ says it is not ready) if the content is broken."""
    try:
        from knowledge.kb import KnowledgeBase

        return KnowledgeBase.load(settings.kb_path)
    except Exception:  # broken content must not keep the rest of the bot from starting
        log.exception("knowledge base could not be loaded; the FAQ is unavailable")
        return None


def build_features(services: Services) -> list[Feature]:
    features: list[Feature] = [MenuFeature()]
    for module_name in FEATURE_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        features.append(module.feature(services))
    return features


@dataclass
class App:
    settings: Settings
    db: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    services: Services
    engine: Engine
    inbox: Inbox

    async def close(self) -> None:
        await self.engine.drain()
        await self.db.dispose()


async def build_app(
    settings: Settings,
    *,
    migrate: bool = True,
    now: Callable[[], datetime] = utc_now,
    knowledge: object | None = None,
) -> App:
    db = create_engine(settings.database_url, file_mode=settings.file_mode_bits)
    if migrate and await upgrade(db):
        log.info("database schema upgraded")
    sessions = session_factory(db)
    kb = knowledge if knowledge is not None else load_knowledge(settings)
    services = Services(settings=settings, now=now, kb=kb)  # type: ignore[arg-type]
    services.extra["sessions"] = sessions
    router = Router(build_features(services))
    engine = Engine(sessions, router, services)
    return App(settings, db, sessions, services, engine, Inbox(db))
