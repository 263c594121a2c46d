"""The web chat in real Chromium: from /start to a downloaded DOCX, as a visitor on a phone
would do it. Screenshots of each stage go to ``tests/screenshots/<test name>/``."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.auxil.browser import SCREENSHOTS, chromium_or_skip
from tests.auxil.intake import docx_text, fill_until_summary
from tests.auxil.webchat import WebServerProcess, web_server


class ChatPage:
    """The chat page in a browser tab: type and send, click a button, wait for the answer."""

    def __init__(self, page: Any, server: WebServerProcess, folder: Path) -> None:
        self.page, self.server, self.folder = page, server, folder
        self.dialogs: list[str] = []
        page.on("dialog", lambda dialog: self.dialogs.append(dialog.message))
        self._shots = 0

    async def snap(self, label: str) -> Path:
        self._shots += 1
        name = re.sub(r"[^a-z0-9-]+", "-", label.lower()).strip("-")
        path = self.folder / f"{self._shots:02d}-{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path

    async def bot_count(self) -> int:
        return int(await self.page.locator("#log .msg.bot").count())

    async def _answered(self, before: int) -> None:
        """Wait for the bot's answer: a new message, then no more for a moment."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while await self.bot_count() <= before:
            assert loop.time() < deadline, "no answer in the page"
            await asyncio.sleep(0.05)
        count = await self.bot_count()
        while True:
            await asyncio.sleep(0.4)
            now = await self.bot_count()
            if now == count:
                return
            count = now

    async def open(self) -> None:
        await self.page.goto(self.server.base + "/chat")
        await self._answered(0)  # a first visit starts the chat by itself

    async def send(self, text: str) -> None:
        before = await self.bot_count()
        await self.page.get_by_label("Tin nhắn").fill(text)
        await self.page.get_by_role("button", name="Gửi", exact=True).click()
        await self._answered(before)

    async def tap(self, label_part: str) -> None:
        before = await self.bot_count()
        await self.page.locator("#log .buttons button:enabled", has_text=label_part).first.click()
        await self._answered(before)

    async def _last_answer(self) -> list[Any]:
        messages = await self.page.locator("#log .msg").all()
        answer: list[Any] = []
        for message in reversed(messages):
            if "user" in (await message.get_attribute("class") or ""):
                break
            answer.insert(0, message)
        return answer


class SyncView:
    """``send``/``tap``/``text``/``labels`` like ``tests.auxil.app.ChatUser`` (read from the
    page after each action), so the intake helpers drive the page by clicks and typing."""

    def __init__(self, chat: ChatPage) -> None:
        self.chat = chat
        self.text = ""
        self.labels: list[str] = []

    async def _refresh(self) -> None:
        answer = await self.chat._last_answer()
        self.text = "\n".join([await m.inner_text() for m in answer])
        self.labels = []
        for message in answer:
            for button in await message.locator("button:enabled").all():
                self.labels.append(await button.inner_text())

    async def send(self, text: str) -> None:
        await self.chat.send(text)
        await self._refresh()

    async def tap(self, label_part: str) -> None:
        await self.chat.tap(label_part)
        await self._refresh()


@pytest.fixture
async def chat_page(db_url: str, request: pytest.FixtureRequest) -> AsyncIterator[ChatPage]:
    executable = chromium_or_skip()
    from playwright.async_api import async_playwright

    folder = SCREENSHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    async with web_server(db_url, web_chat_per_minute=1000) as server, async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(executable))
        context = await chromium.new_context(
            viewport={"width": 390, "height": 844}, locale="vi-VN", accept_downloads=True
        )
        try:
            yield ChatPage(await context.new_page(), server, folder)
        finally:
            await context.close()
            await chromium.close()


async def test_the_web_chat_from_start_to_a_downloaded_docx(chat_page: ChatPage, tmp_path: Path):
    chat = chat_page
    await chat.open()
    view = SyncView(chat)
    await view._refresh()
    assert "Trợ lý Khuyến công" in view.text and any("Tạo hồ sơ" in x for x in view.labels)
    await chat.snap("start")

    await fill_until_summary(view)  # clicks on buttons, answers typed into the box
    await chat.snap("summary")
    await view.tap("Xác nhận")
    assert "Đã lưu hồ sơ #" in view.text
    link = chat.page.locator("#log a.file").last
    async with chat.page.expect_download() as info:
        await link.click()
    download = await info.value
    assert download.suggested_filename.endswith(".docx")
    saved = tmp_path / download.suggested_filename
    await download.save_as(str(saved))
    assert "ĐƠN ĐỀ NGHỊ HỖ TRỢ KINH PHÍ KHUYẾN CÔNG" in docx_text(saved.read_bytes())
    await chat.snap("saved-with-link")

    # Text that looks like markup stays text; nothing runs.
    await view.send("<img src=x onerror=alert(1)><script>alert(2)</script>")
    mine = chat.page.locator("#log .msg.user").last
    assert await mine.inner_text() == "<img src=x onerror=alert(1)><script>alert(2)</script>"
    assert await chat.page.locator("#log img, #log script").count() == 0
    assert chat.dialogs == []

    # A reload shows the same chat, the download link included, nothing doubled.
    shown = await chat.page.locator("#log .msg").all_inner_texts()
    await chat.page.reload()
    # Polled from here: the page's CSP forbids the string evaluation wait_for_function uses.
    for _ in range(200):
        if await chat.page.locator("#log .msg").count() >= len(shown):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    assert await chat.page.locator("#log .msg").all_inner_texts() == shown
    assert await chat.page.locator("#log a.file").count() == 1
    await chat.snap("after-reload")
