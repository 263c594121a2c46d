"""Staff web logins, sessions and wrong-password counts: the SQL behind bot/web/logins.py."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.web import WebLogin, WebLoginFailure, WebSession


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LoginRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, username: str) -> WebLogin | None:
        return await self.session.scalar(select(WebLogin).where(WebLogin.username == username))

    async def all(self) -> Sequence[WebLogin]:
        return (await self.session.scalars(select(WebLogin).order_by(WebLogin.username))).all()

    async def add(self, username: str, password_hash: str, role: str, now: datetime) -> WebLogin:
        row = WebLogin(username=username, password_hash=password_hash, role=role, created_at=now)
        self.session.add(row)
        await self.session.flush()
        return row

    async def remove(self, login: WebLogin) -> None:
        await self.session.execute(delete(WebSession).where(WebSession.login_id == login.id))
        await self.session.delete(login)
        await self.session.flush()

    async def end_sessions(self, login: WebLogin) -> None:
        await self.session.execute(delete(WebSession).where(WebSession.login_id == login.id))


class SessionRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, login: WebLogin, now: datetime, hours: float) -> tuple[str, WebSession]:
        """A new browser session; returns the token for the cookie (only its hash is kept)."""
        token = secrets.token_urlsafe(32)
        row = WebSession(
            token_hash=token_hash(token),
            login_id=login.id,
            csrf=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + timedelta(hours=hours),
            last_seen=now,
        )
        self.session.add(row)
        await self.session.flush()
        return token, row

    async def valid(self, token: str, now: datetime) -> tuple[WebSession, WebLogin] | None:
        found = (
            await self.session.execute(
                select(WebSession, WebLogin)
                .join(WebLogin, WebLogin.id == WebSession.login_id)
                .where(WebSession.token_hash == token_hash(token), WebSession.expires_at > now)
            )
        ).first()
        return (found[0], found[1]) if found else None

    async def end(self, token: str) -> None:
        await self.session.execute(
            delete(WebSession).where(WebSession.token_hash == token_hash(token))
        )

    async def prune(self, now: datetime) -> int:
        result = await self.session.execute(delete(WebSession).where(WebSession.expires_at <= now))
        return int(getattr(result, "rowcount", 0) or 0)

    @staticmethod
    def add_flash(row: WebSession, message: str) -> None:
        messages = json.loads(row.flash) if row.flash else []
        messages.append(message)
        text = json.dumps(messages, ensure_ascii=False)
        row.flash = text if len(text) <= 2000 else json.dumps([message[:500]], ensure_ascii=False)

    @staticmethod
    def pop_flash(row: WebSession) -> list[str]:
        messages: list[str] = json.loads(row.flash) if row.flash else []
        row.flash = None
        return messages


class FailureRepo:
    """Wrong passwords per typed username, shared by every process through the database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def locked_until(self, username: str, now: datetime) -> datetime | None:
        row = await self.session.get(WebLoginFailure, username)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            return row.locked_until
        return None

    async def fail(self, username: str, now: datetime, limit: int, lock: timedelta) -> bool:
        """Count one wrong password; True when this one locks the username."""
        result = await self.session.execute(
            update(WebLoginFailure)
            .where(WebLoginFailure.username == username)
            .values(failures=WebLoginFailure.failures + 1, last_failed_at=now)
        )
        if not getattr(result, "rowcount", 0):
            self.session.add(WebLoginFailure(username=username, failures=1, last_failed_at=now))
        await self.session.flush()
        row = await self.session.get(WebLoginFailure, username, populate_existing=True)
        if row is None or row.failures < limit:
            return False
        row.failures, row.locked_until = 0, now + lock
        await self.session.flush()
        return True

    async def prune(self, before: datetime, now: datetime) -> None:
        """Forget old counts (typed names of nobody must not pile up), keeping live locks."""
        await self.session.execute(
            delete(WebLoginFailure).where(
                WebLoginFailure.last_failed_at < before,
                or_(WebLoginFailure.locked_until.is_(None), WebLoginFailure.locked_until < now),
            )
        )

    async def clear(self, username: str) -> None:
        await self.session.execute(
            delete(WebLoginFailure).where(WebLoginFailure.username == username)
        )
