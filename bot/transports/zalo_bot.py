"""Zalo Bot platform (bot-api.zaloplatforms.com): updates into the inbox, replies out.

Receiving: a webhook at ``{KCBOT_WEBHOOK_BASE}/zalo/bot`` checked against
``X-Bot-Api-Secret-Token`` (registered with ``setWebhook``) when both the base and
``ZALO_BOT_WEBHOOK_SECRET`` are set; otherwise long polling with ``getUpdates`` (one update
per call, no offset; HTTP 408 means nothing arrived). Updates come wrapped in
``{"ok", "result"}`` or at top level: both are read. No update id: the inbox dedupes on
``message.message_id``.

Sending: ``sendMessage`` with plain text of at most 2,000 characters. No buttons on this
platform: the renderer numbers the choices. A 429 («Quota exceeded», no retry_after) pauses
this bot's sends with a growing backoff and is counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

from bot.channels import Capabilities, Outcome, SendResult
from bot.inbox import event_of
from bot.outage import Outage
from bot.render import render
from bot.types import Incoming, Reply

log = logging.getLogger(__name__)

CHANNEL = "zalo_bot"
PATH = "/zalo/bot"
MAX_TEXT = 2000
CAPABILITIES = Capabilities(buttons=False, request_phone=False, documents=False, max_text=MAX_TEXT)
POLL_TIMEOUT = 30.0
QUOTA_BACKOFF = 5.0
QUOTA_BACKOFF_CAP = 600.0
POLL_BACKOFF = 1.0
POLL_BACKOFF_CAP = 60.0


def update_of(body: Any) -> dict[str, Any] | None:
    """The update in a webhook body or a getUpdates answer, wrapped or not."""
    if not isinstance(body, dict):
        return None
    inner = body.get("result")
    if isinstance(inner, list):
        inner = inner[0] if inner else None
    data = inner if isinstance(inner, dict) else body
    return data if isinstance(data.get("message"), dict) else None


def to_incoming(update: dict[str, Any]) -> Incoming | None:
    event = str(update.get("event_name") or "")
    message = update["message"]
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    assert isinstance(chat, dict) and isinstance(sender, dict)
    chat_id = chat.get("id") or sender.get("id")
    if not chat_id or sender.get("is_bot"):
        return None
    if str(chat.get("chat_type") or "PRIVATE").upper() != "PRIVATE":
        return None
    text = message.get("text") if event in ("", "message.text.received") else None
    if text is None and isinstance(message.get("caption"), str):
        text = message["caption"]
    try:
        moment = datetime.fromtimestamp(int(message.get("date")) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        moment = datetime.now(UTC)
    message_id = message.get("message_id")
    external = f"{message_id}" if message_id else f"{event}:{message.get('date')}:{chat_id}"
    name = sender.get("display_name")
    return Incoming(
        channel=CHANNEL,
        chat_id=str(chat_id),
        user_id=str(sender.get("id") or chat_id),
        display_name=name if isinstance(name, str) else None,
        text=text if isinstance(text, str) else None,
        update_id=external[:128],
        time=moment,
    )


class ZaloBotApiError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status, self.body = status, body


class ZaloBotClient:
    def __init__(self, token: str, base_url: str) -> None:
        self.base = f"{base_url}{token}/"
        self._http: aiohttp.ClientSession | None = None

    def http(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def call(self, method: str, body: dict[str, Any], wait: float = 15.0) -> Any:
        """The ``result`` of a method; ``ZaloBotApiError`` otherwise (the URL, which holds
        the token, is never logged)."""
        async with self.http().post(
            self.base + method, json=body, timeout=aiohttp.ClientTimeout(total=wait)
        ) as response:
            try:
                data = await response.json(content_type=None)
            except (ValueError, aiohttp.ContentTypeError):
                data = None
        code = data.get("error_code") if isinstance(data, dict) else None
        if response.status != 200 or not isinstance(data, dict) or data.get("ok") is False:
            raise ZaloBotApiError(int(code or response.status), data)
        return data.get("result")


class ZaloBotSender:
    capabilities = CAPABILITIES

    def __init__(self, client: ZaloBotClient) -> None:
        self.client = client
        self.quota_exceeded = 0
        self._backoff = 0.0
        self.paused_until = 0.0

    async def send(self, chat_id: str, reply: Reply) -> SendResult:
        loop = asyncio.get_running_loop()
        if loop.time() < self.paused_until:
            return SendResult(Outcome.RATE_LIMITED, retry_after=self.paused_until - loop.time())
        for part in render([reply], CAPABILITIES):
            if not part.text.strip():
                continue
            try:
                await self.client.call("sendMessage", {"chat_id": chat_id, "text": part.text})
            except ZaloBotApiError as exc:
                if exc.status == 429:
                    self.quota_exceeded += 1
                    self._backoff = min(QUOTA_BACKOFF_CAP, (self._backoff * 2) or QUOTA_BACKOFF)
                    self.paused_until = loop.time() + self._backoff
                    log.warning("Zalo Bot: quota exceeded, pausing %.0f s", self._backoff)
                    return SendResult(Outcome.RATE_LIMITED, retry_after=self._backoff)
                if exc.status == 403:
                    return SendResult(Outcome.UNREACHABLE, detail=str(exc))
                if exc.status in (400, 413):
                    return SendResult(Outcome.REJECTED, detail=str(exc))
                return SendResult(Outcome.TRANSIENT, detail=str(exc))
            except (aiohttp.ClientError, TimeoutError) as exc:
                return SendResult(Outcome.TRANSIENT, detail=f"{type(exc).__name__}: {exc}")
        self._backoff = 0.0
        return SendResult.sent()


class ZaloBotTransport:
    capabilities = CAPABILITIES

    def __init__(self, app: Any, http: Any, *, poll_timeout: float = POLL_TIMEOUT) -> None:
        from bot.transports.http import path_of

        self.app = app
        self.settings = app.settings
        token = self.settings.zalo_bot_token
        if not token:
            raise ValueError("ZALO_BOT_TOKEN is not set")
        self.client = ZaloBotClient(token, self.settings.zalo_bot_api_base_url)
        self.sender = ZaloBotSender(self.client)
        self.poll_timeout = poll_timeout
        self.webhook = bool(self.settings.webhook_base and self.settings.zalo_bot_webhook_secret)
        self.path = path_of(self.settings.webhook_base, PATH)
        self.http = http
        if self.webhook:
            http.add_post(self.path, self.on_webhook)
        self._poller: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._started = False

    async def start(self) -> None:
        self.app.engine.capabilities[CHANNEL] = CAPABILITIES
        if self.webhook:
            await self.http.start()
            url = str(self.settings.webhook_base).rstrip("/") + PATH
            await self.client.call(
                "setWebhook", {"url": url, "secret_token": self.settings.zalo_bot_webhook_secret}
            )
        else:
            with contextlib.suppress(ZaloBotApiError, aiohttp.ClientError):
                await self.client.call("deleteWebhook", {})
            self._poller = asyncio.create_task(self._poll(), name="zalo-bot-poll")
        self._started = True
        log.info("Zalo Bot: %s", "receiving webhooks" if self.webhook else "polling")

    async def stop(self) -> None:
        self._started = False
        self._stopping.set()
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._poller
            self._poller = None

    async def close(self) -> None:
        """After the workers stopped: the client's connections."""
        await self.client.close()

    async def _poll(self) -> None:
        outage = Outage("Zalo Bot API", "getUpdates")
        delay = POLL_BACKOFF
        while not self._stopping.is_set():
            try:
                result = await self.client.call(
                    "getUpdates",
                    {"timeout": round(self.poll_timeout)},
                    wait=self.poll_timeout + 10,
                )
                await self.receive({"result": result})
                outage.over()
                delay = POLL_BACKOFF
            except asyncio.CancelledError:
                raise
            except ZaloBotApiError as exc:
                if exc.status == 408:  # nothing arrived during the long poll
                    outage.over()
                    continue
                outage.failed(exc, retry_in=delay)
                await self._sleep(delay)
                delay = min(POLL_BACKOFF_CAP, delay * 2)
            except Exception as exc:
                outage.failed(exc, retry_in=delay)
                await self._sleep(delay)
                delay = min(POLL_BACKOFF_CAP, delay * 2)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def receive(self, body: Any) -> bool:
        update = update_of(body)
        if update is None:
            return False
        incoming = to_incoming(update)
        if incoming is None:
            return True
        assert incoming.update_id is not None
        await self.app.inbox.accept([event_of(incoming, incoming.update_id, json.dumps(update))])
        return True

    async def on_webhook(self, request: web.Request) -> web.Response:
        secret = self.settings.zalo_bot_webhook_secret or ""
        given = request.headers.get("X-Bot-Api-Secret-Token", "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403, text="forbidden")
        try:
            body = json.loads(await request.read())
        except ValueError:
            return web.Response(status=400, text="bad update")
        if not self._started:
            return web.Response(status=503, text="stopping")
        try:
            known = await self.receive(body)
        except Exception as exc:
            log.warning("Zalo Bot update not stored: %s", exc)
            return web.Response(status=503, text="try again")
        return web.Response(text="ok" if known else "ignored")
