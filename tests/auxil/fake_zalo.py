"""Fake Zalo servers for tests: the OA API + OAuth, and the Zalo Bot API (aiohttp).

They record what the bot sent and reject what Zalo rejects: a text over 2,000 characters,
a bad or expired access token (``-216``), a reused refresh token, a message to a user
silent for more than 7 days (``-230``). Switches: ``rate_limit`` (``-32`` / HTTP 429) for
the next N sends, ``delay`` seconds before each answer.

The OA fake also plays Zalo's part towards the bot: ``event`` builds a webhook event and
``post`` signs and POSTs it to the bot's webhook.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

APP_ID = "360846524940903967"
APP_SECRET = "app-secret-xyz"
OA_SECRET = "oa-secret-key-abc"
OA_ID = "388613280878808645"
BOT_TOKEN = "12345689:abc-xyz"
DAY_MS = 24 * 3600 * 1000


async def _serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, port


async def _wait(cond: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@dataclass
class FakeZaloOA:
    """The OA API (``/v3.0/oa/message/cs``) and OAuth (``/v4/oa/access_token``)."""

    access_token: str = "access-1"
    refresh_token: str = "refresh-1"
    sent: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    refresh_calls: list[dict[str, str]] = field(default_factory=list)
    used_refresh_tokens: set[str] = field(default_factory=set)
    # user id -> last interaction (ms); users not listed count as active now.
    last_interaction: dict[str, int] = field(default_factory=dict)
    rate_limit: int = 0
    delay: float = 0.0
    refresh_delay: float = 0.0
    port: int = 0
    _runner: web.AppRunner | None = None
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def start(self) -> FakeZaloOA:
        app = web.Application()
        app.router.add_post("/v3.0/oa/message/cs", self._message)
        app.router.add_post("/v4/oa/access_token", self._oauth)
        self._runner, self.port = await _serve(app)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def expire_access_token(self) -> None:
        """Zalo no longer accepts the current access token (-216 until refreshed)."""
        self.access_token = f"expired-{next(self._counter)}"

    async def _message(self, request: web.Request) -> web.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        body = await request.json()
        user = str(body.get("recipient", {}).get("user_id", ""))
        message = body.get("message", {})
        token = request.headers.get("access_token")

        def refuse(error: int, text: str) -> web.Response:
            self.refused.append({"user_id": user, "error": error, "message": message})
            return web.json_response({"error": error, "message": text})

        if token != self.access_token:
            return refuse(-216, "Access token is invalid")
        if self.rate_limit > 0:
            self.rate_limit -= 1
            return refuse(-32, "Exceed rate limit")
        text = message.get("text")
        if text is not None and not 1 <= len(text) <= 2000:
            return refuse(-201, "text length must be 1-2000")
        last = self.last_interaction.get(user)
        if last is not None and time.time() * 1000 - last > 7 * DAY_MS:
            return refuse(-230, "User has not interacted with the OA in the past 7 days")
        self.sent.append({"user_id": user, "message": message})
        data = {"message_id": f"m{next(self._counter)}", "user_id": user}
        return web.json_response({"data": data, "error": 0, "message": "Success"})

    async def _oauth(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.refresh_calls.append({k: str(v) for k, v in form.items()})
        if self.refresh_delay:
            await asyncio.sleep(self.refresh_delay)
        if request.headers.get("secret_key") != APP_SECRET or form.get("app_id") != APP_ID:
            return web.json_response({"error": -14002, "message": "Invalid app"})
        given = str(form.get("refresh_token"))
        if given in self.used_refresh_tokens or given != self.refresh_token:
            return web.json_response({"error": -14014, "message": "Invalid refresh token"})
        self.used_refresh_tokens.add(given)
        n = next(self._counter)
        self.access_token, self.refresh_token = f"access-r{n}", f"refresh-r{n}"
        return web.json_response(
            {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "expires_in": "90000",
            }
        )

    # --- what users saw ------------------------------------------------------------------

    def sent_to(self, user: str) -> list[dict[str, Any]]:
        return [m["message"] for m in self.sent if m["user_id"] == user]

    def texts_to(self, user: str) -> list[str]:
        return [m["text"] for m in self.sent_to(user) if "text" in m]

    async def wait_for(self, user: str, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:  # noqa: ASYNC109
        await _wait(lambda: len(self.sent_to(user)) >= n, timeout, f"{n} messages to {user}")
        return self.sent_to(user)

    # --- acting as Zalo towards the bot's webhook -----------------------------------------

    def event(
        self,
        event_name: str,
        user: str,
        *,
        text: str | None = None,
        msg_id: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        stamp = str(int(time.time() * 1000) + next(self._counter))
        data: dict[str, Any] = {
            "app_id": APP_ID,
            "user_id_by_app": f"app-{user}",
            "event_name": event_name,
            "timestamp": stamp,
            "sender": {"id": user},
            "recipient": {"id": OA_ID},
        }
        if event_name in ("follow", "unfollow"):
            data.pop("sender")
            data["follower"] = {"id": user}
            data["oa_id"] = OA_ID
        if text is not None or msg_id is not None or event_name.startswith("user_send_"):
            message: dict[str, Any] = {"msg_id": msg_id or f"msg{stamp}"}
            if text is not None:
                message["text"] = text
            data["message"] = message
        data.update(extra)
        return data


def sign(raw: bytes, app_id: str = APP_ID, secret: str = OA_SECRET) -> str:
    timestamp = str(json.loads(raw)["timestamp"])
    return (
        "mac="
        + hashlib.sha256(app_id.encode() + raw + timestamp.encode() + secret.encode()).hexdigest()
    )


async def post_event(
    url: str,
    event: dict[str, Any],
    *,
    signature: str | None = "sign",
    http: aiohttp.ClientSession | None = None,
) -> int:
    """POST a Zalo OA event to ``url``, signed unless ``signature`` is None or given."""
    raw = json.dumps(event, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["X-ZEvent-Signature"] = sign(raw)
    elif signature is not None:
        headers["X-ZEvent-Signature"] = signature
    own = http is None
    session = http or aiohttp.ClientSession()
    try:
        async with session.post(url, data=raw, headers=headers) as response:
            return response.status
    finally:
        if own:
            await session.close()


@dataclass
class FakeZaloBot:
    """The Zalo Bot API: ``/bot{token}/{method}``."""

    token: str = BOT_TOKEN
    sent: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)
    rate_limit: int = 0
    delay: float = 0.0
    port: int = 0
    _runner: web.AppRunner | None = None
    _queue: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def start(self) -> FakeZaloBot:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self._runner, self.port = await _serve(app)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def update(
        self, chat: str, text: str, *, message_id: str | None = None, wrapped: bool = True
    ) -> dict[str, Any]:
        n = next(self._counter)
        inner = {
            "event_name": "message.text.received",
            "message": {
                "message_id": message_id or f"zm{n:06d}",
                "date": int(time.time() * 1000),
                "from": {"id": chat, "display_name": "Ted", "is_bot": False},
                "chat": {"id": chat, "chat_type": "PRIVATE"},
                "text": text,
            },
        }
        return {"ok": True, "result": inner} if wrapped else inner

    def push(self, chat: str, text: str, **options: Any) -> None:
        """A user writes (delivered by the next getUpdates)."""
        update = self.update(chat, text, **options)
        self._queue.put_nowait(update.get("result", update))

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        self.calls.append(method)
        body = await request.json() if request.can_read_body else {}
        if self.delay:
            await asyncio.sleep(self.delay)
        if method == "getUpdates":
            if self.webhook.get("url"):
                return web.json_response(
                    {"ok": False, "error_code": 400, "description": "webhook set"}, status=400
                )
            try:
                update = await asyncio.wait_for(self._queue.get(), float(body.get("timeout", 30)))
            except TimeoutError:
                return web.json_response(
                    {"ok": False, "description": "Request timeout"}, status=408
                )
            return web.json_response({"ok": True, "result": update})
        if method == "setWebhook":
            self.webhook = {"url": body["url"], "secret_token": body["secret_token"]}
            return web.json_response({"ok": True, "result": {"url": body["url"], "updated_at": 1}})
        if method == "deleteWebhook":
            self.webhook = {}
            return web.json_response({"ok": True, "result": {"url": "", "updated_at": 1}})
        if method == "getMe":
            return web.json_response({"ok": True, "result": {"id": "1", "account_name": "bot.kc"}})
        if method == "sendMessage":
            if self.rate_limit > 0:
                self.rate_limit -= 1
                return web.json_response(
                    {"ok": False, "error_code": 429, "description": "Quota exceeded"}, status=429
                )
            text = body.get("text") or ""
            if not 1 <= len(text) <= 2000:
                return web.json_response(
                    {"ok": False, "error_code": 400, "description": "text too long"}, status=400
                )
            self.sent.append({"chat_id": str(body["chat_id"]), "text": text})
            return web.json_response(
                {"ok": True, "result": {"message_id": f"s{next(self._counter)}", "date": 1}}
            )
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    def texts_to(self, chat: str) -> list[str]:
        return [m["text"] for m in self.sent if m["chat_id"] == chat]

    async def wait_for(self, chat: str, n: int, timeout: float = 10.0) -> list[str]:  # noqa: ASYNC109
        await _wait(lambda: len(self.texts_to(chat)) >= n, timeout, f"{n} messages to {chat}")
        return self.texts_to(chat)
