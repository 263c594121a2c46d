"""Shared files: store one behind an unguessable token, fetch it while valid, prune."""

from __future__ import annotations

import mimetypes
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.files import SharedFile

# How long a download link works.
LINK_DAYS = 7
GENERIC_MIME = "application/octet-stream"


def mime_of(filename: str, declared: str | None = None) -> str:
    if declared and declared != GENERIC_MIME:
        return declared
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    return guessed or GENERIC_MIME


class SharedFileRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def share(
        self, filename: str, content: bytes, mime_type: str | None, now: datetime
    ) -> str:
        """Store the file; its token (the last part of the link)."""
        token = secrets.token_urlsafe(32)
        self.session.add(
            SharedFile(
                token=token,
                filename=filename[:255],
                content=content,
                mime_type=mime_of(filename, mime_type),
                created_at=now,
                expires_at=now + timedelta(days=LINK_DAYS),
            )
        )
        await self.session.flush()
        return token

    async def valid(self, token: str, now: datetime) -> SharedFile | None:
        if not token or len(token) > 64:
            return None
        row = await self.session.scalar(select(SharedFile).where(SharedFile.token == token))
        if row is None or row.expires_at <= now:
            return None
        return row

    async def prune(self, now: datetime, dry_run: bool = False) -> int:
        """Expired files: deleted (or only counted)."""
        expired = SharedFile.expires_at <= now
        if dry_run:
            return int(
                await self.session.scalar(
                    select(func.count()).select_from(SharedFile).where(expired)
                )
                or 0
            )
        result = await self.session.execute(delete(SharedFile).where(expired))
        return int(getattr(result, "rowcount", 0) or 0)
