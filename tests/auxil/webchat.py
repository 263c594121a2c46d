"""The web chat as a visitor's browser uses it: the real server, an HTTP client with its
own cookie jar, the page's requests (``GET/POST /chat/messages``)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from bot.runner import serve
from bot.settings import Settings
from tests.auxil.app import make_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class WebServerProcess:
    """``kcbot web`` in this process (``bot.runner.serve(web_only=True)``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stop_event = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.settings.listen_port}"

    async def start(self) -> None:
        self.stop_event = asyncio.Event()
        self.task = asyncio.create_task(serve(self.settings, self.stop_event, web_only=True))
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                if self.task.done():
                    self.task.result()
                    raise AssertionError("serve() ended")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(self.base + "/healthz") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.05)
        raise AssertionError("the web server did not start")

    async def stop(self) -> None:
        self.stop_event.set()
        if self.task is not None:
            await asyncio.wait_for(self.task, 30)
            self.task = None


def web_settings(db_url: str, **overrides: Any) -> Settings:
    overrides.setdefault("listen_host", "127.0.0.1")
    overrides.setdefault("listen_port", free_port())
    return make_settings(db_url, **overrides)


@contextlib.asynccontextmanager
async def web_server(db_url: str, **overrides: Any) -> AsyncIterator[WebServerProcess]:
    server = WebServerProcess(web_settings(db_url, **overrides))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class Visitor:
    """One browser: a cookie jar, the messages shown, the buttons of the last answer.

    Offers ``send``/``tap``/``text``/``labels`` like ``tests.auxil.app.ChatUser`` so the
    same dialogue helpers drive it."""

    def __init__(self, base: str) -> None:
        self.base = base
        # Cookies for an IP address (127.0.0.1) need the "unsafe" jar.
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.shown: list[dict[str, Any]] = []
        self.keys: set[str] = set()
        self.since: str | None = None
        self.last: list[dict[str, Any]] = []  # the bot's messages after the last send

    async def close(self) -> None:
        await self.http.close()

    async def __aenter__(self) -> Visitor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def chat_cookie(self) -> str | None:
        for cookie in self.http.cookie_jar:
            if cookie.key == "kc_chat":
                return cookie.value
        return None

    async def open(self) -> str:
        """Load the page and the chat so far, as a (re)load does; the page's HTML."""
        async with self.http.get(self.base + "/chat") as response:
            assert response.status == 200
            html = await response.text()
        self.shown, self.keys, self.since = [], set(), None
        await self.fetch()
        return html

    async def fetch(self, wait: bool = False) -> list[dict[str, Any]]:
        """New messages (all on the first call), as the page's poll gets them."""
        params = {}
        if self.since is not None:
            params["since"] = self.since
            if wait:
                params["wait"] = "1"
        async with self.http.get(self.base + "/chat/messages", params=params) as response:
            assert response.status == 200, await response.text()
            data = await response.json()
        self.since = data["now"]
        new = [m for m in data["messages"] if m["key"] not in self.keys]
        for message in new:
            self.keys.add(message["key"])
            self.shown.append(message)
        return new

    async def post_raw(
        self, data: bytes, content_type: str = "application/json"
    ) -> tuple[int, str]:
        headers = {"Content-Type": content_type}
        async with self.http.post(
            self.base + "/chat/messages", data=data, headers=headers
        ) as response:
            return response.status, await response.text()

    async def post_json(self, body: Any) -> tuple[int, dict[str, Any]]:
        async with self.http.post(self.base + "/chat/messages", json=body) as response:
            return response.status, await response.json(content_type=None)

    async def replies(self, quiet: float = 0.25, patience: float = 20.0) -> list[dict[str, Any]]:
        """The bot's answer: waits for its first message, then until it is quiet."""
        got: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        while not any(m["who"] == "bot" for m in got):
            if loop.time() > deadline:
                raise AssertionError("no answer from the bot")
            got += await self.fetch(wait=True)
        while True:
            await asyncio.sleep(quiet)
            more = await self.fetch()
            if not more:
                break
            got += more
        self.last = [m for m in got if m["who"] == "bot"]
        return self.last

    async def until_answered(self, count: int, patience: float = 60.0) -> None:
        """Fetch until the bot has sent ``count`` messages in all (so that no message is
        still being handled when the test stops the server)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        while sum(m["who"] == "bot" for m in self.shown) < count:
            assert loop.time() < deadline, "the bot did not answer every message"
            await self.fetch(wait=True)

    async def send(self, text: str | None = None, *, payload: str | None = None) -> list[Any]:
        body: dict[str, Any] = {"id": secrets.token_urlsafe(12)}
        if payload is not None:
            label = next((b["label"] for b in self.buttons if b["payload"] == payload), payload)
            body.update(payload=payload, label=label)
        else:
            body["text"] = text
        status, answer = await self.post_json(body)
        assert status == 202, answer
        return await self.replies()

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return [b for m in self.last for row in m.get("buttons", []) for b in row]

    async def tap(self, label_part: str) -> list[Any]:
        for b in self.buttons:
            if label_part.lower() in b["label"].lower():
                return await self.send(payload=b["payload"])
        raise AssertionError(f"no button {label_part!r} in {self.labels}")

    @property
    def labels(self) -> list[str]:
        return [b["label"] for b in self.buttons]

    @property
    def text(self) -> str:
        return "\n".join(m["text"] for m in self.last)

    @property
    def files(self) -> list[dict[str, Any]]:
        return [m["file"] for m in self.shown if "file" in m]
