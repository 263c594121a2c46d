"""The staff pages: one module per page in this folder, found at start-up.

How to add a page (full example in bot/web/README.md): create ``bot/web/pages/NAME.py``
with

    PAGE = Page(title="Hồ sơ", path="drafts", min_role="staff", order=20)

    def routes(router: PageRouter) -> None:
        router.get("", list_drafts)             # GET  /admin/drafts
        router.post("/{id:\\d+}/status", move)  # POST /admin/drafts/12/status

and templates in ``bot/web/templates/``. Every route of the page needs a login and the
page's ``min_role``; POSTs need the form's ``{{ csrf_field() }}``. The nav lists pages by
``order`` for the roles allowed to see them.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field

from aiohttp import web

from bot.web.core import PREFIX, Handler, require


@dataclass(frozen=True)
class Page:
    title: str  # Vietnamese, shown in the nav and as the heading
    path: str  # under /admin/: "drafts" → /admin/drafts ("" is the landing page)
    min_role: str = "staff"  # "staff" or "admin"
    order: int = 50  # position in the nav
    nav: bool = True  # listed in the nav
    module: str = field(default="", compare=False)

    @property
    def url(self) -> str:
        return f"{PREFIX}/{self.path}" if self.path else f"{PREFIX}/"


class PageRouter:
    """Adds one page's routes under its path, each behind the page's role."""

    def __init__(self, page: Page, router: web.UrlDispatcher) -> None:
        self.page, self._router = page, router

    def _path(self, suffix: str) -> str:
        # Routes live in the /admin sub-application, so paths here start after /admin.
        base = f"/{self.page.path}" if self.page.path else ""
        path = f"{base}{suffix}"
        return path or "/"

    def get(self, suffix: str, handler: Handler, *, role: str | None = None) -> None:
        self._router.add_get(self._path(suffix), require(role or self.page.min_role)(handler))

    def post(self, suffix: str, handler: Handler, *, role: str | None = None) -> None:
        self._router.add_post(self._path(suffix), require(role or self.page.min_role)(handler))


def discover() -> list[tuple[Page, object]]:
    """Every page module in this package (``PAGE`` and ``routes``), in nav order."""
    found: list[tuple[Page, object]] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        page = getattr(module, "PAGE", None)
        if isinstance(page, Page) and callable(getattr(module, "routes", None)):
            found.append((Page(**{**page.__dict__, "module": module.__name__}), module))
    found.sort(key=lambda item: (item[0].order, item[0].title))
    return found


__all__ = ["Page", "PageRouter", "discover"]
