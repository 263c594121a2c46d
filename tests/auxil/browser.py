"""Real Chromium for the staff pages: Debian's /usr/bin/chromium driven by Playwright's
async API, on the test's event loop (so a test can look into the database meanwhile).

- ``browser``: a fresh browser context per test; with CI=true a missing Chromium fails,
  otherwise the test skips with the reason;
- ``Browser.goto`` / ``Browser.submit`` / ``Browser.login``: each page reached is saved as
  a screenshot in ``tests/screenshots/<test name>/`` (gitignored; the README names it).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.auxil.db import in_ci
from tests.auxil.web import PASSWORD, AdminSite, make_login

CHROMIUM = Path(os.environ.get("KCBOT_TEST_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"


class Browser:
    """One browser tab on the admin site; every page it reaches is photographed."""

    def __init__(self, page: Any, site: AdminSite, folder: Path) -> None:
        self.page, self.site, self.folder = page, site, folder
        self._shots = 0

    async def snap(self, label: str) -> Path:
        self._shots += 1
        name = re.sub(r"[^a-z0-9-]+", "-", label.lower()).strip("-") or "page"
        path = self.folder / f"{self._shots:02d}-{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path

    async def goto(self, path: str, label: str | None = None) -> Any:
        response = await self.page.goto(self.site.url + path)
        await self.snap(label or path)
        return response

    async def submit(self, button: str, label: str) -> None:
        """Click the button named ``button`` and wait for the page it leads to."""
        async with self.page.expect_navigation():
            await self.page.get_by_role("button", name=button).click()
        await self.snap(label)

    async def fill_login(self, username: str, password: str) -> None:
        await self.page.get_by_label("Tên đăng nhập").fill(username)
        await self.page.get_by_label("Mật khẩu").fill(password)
        await self.submit("Đăng nhập", "after-login")

    async def login(self, role: str = "staff", username: str | None = None) -> str:
        """Create a login with ``role`` (the CLI's service) and log in through the form."""
        username = username or f"{role}1"
        await make_login(self.site.app, username, role)
        await self.goto("/admin/login", "login")
        await self.fill_login(username, PASSWORD)
        return username

    async def text(self) -> str:
        return str(await self.page.inner_text("body"))


def chromium_or_skip() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    reason = f"{CHROMIUM} is missing: install Debian's chromium (python3 dev.py test does)"
    if in_ci():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture
async def browser(admin_site: AdminSite, request: pytest.FixtureRequest) -> AsyncIterator[Browser]:
    executable = chromium_or_skip()
    from playwright.async_api import async_playwright

    folder = SCREENSHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(executable))
        context = await chromium.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN")
        page = await context.new_page()
        try:
            yield Browser(page, admin_site, folder)
        finally:
            await context.close()
            await chromium.close()
