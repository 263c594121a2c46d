"""Helpers for intake tests: a tidy run to the summary, the user's drafts, a DOCX's text."""

from __future__ import annotations

import io

from sqlalchemy import select

from db.models.drafts import Draft
from tests.auxil.app import ChatUser

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def drafts_of(app, chat_id="1001"):
    async with app.sessions() as session:
        rows = await session.scalars(select(Draft).where(Draft.chat_id == chat_id))
        return list(rows)


def docx_text(content: bytes) -> str:
    from docx import Document

    doc = Document(io.BytesIO(content))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts)


async def open_intake(user: ChatUser) -> None:
    """Tap «Tạo hồ sơ» and, the first time, agree to the data notice that comes first."""
    await user.tap("Tạo hồ sơ")
    if any("Đồng ý" in label for label in user.labels):
        await user.tap("Đồng ý")


async def fill_until_summary(user: ChatUser) -> None:
    """A tidy run through every step (diacritics-free typing, buttons where offered)."""
    await user.send("/start")
    await open_intake(user)
    await user.tap("Máy móc")
    await user.tap("Hộ kinh doanh")
    await user.tap("Thủ công mỹ nghệ")
    await user.send("quang ngai")
    await user.tap("Quảng Ngãi")
    await user.send("xa nghia hanh")
    await user.tap("Nghĩa Hành")
    await user.send("Co so may tre Minh Phat")
    await user.send("0123456789")
    await user.send("Nguyen Van An")
    await user.send("0912 345 678")
    await user.send("ban ghe may tre")
    await user.send("12")
    await user.send("mua may cha nham")
    await user.send("350 trieu")
    await user.send("200tr")
    await user.send("tang nang suat 30%")
    assert "Xem lại hồ sơ" in user.text
