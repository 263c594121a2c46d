"""The web chat (channel ``web``): a page at ``/chat`` on the shared aiohttp server.

Same path as every channel: a visitor's message goes into the inbox (``Inbox.accept``)
before the HTTP answer, with the page's own message id as the external id, so a retried
POST is stored once and answered once. The workers handle it and the outbox sends the
replies through ``WebSender``, whose "sending" is only a nudge: a reply is delivered when
the outbox marks it sent, and the page fetches (long-polls) the sent replies of its chat.
The transcript is read from the inbox and outbox rows themselves (``db.repos.web_chat``),
so a reload shows the chat so far and a restart neither loses nor doubles a message.

The chat is known by a random id in an HttpOnly, SameSite=Lax cookie (Lax so that a link
from a centre's website opens the same chat); no personal data goes into URLs or logs.
Each address may send ``KCBOT_WEB_CHAT_PER_MINUTE`` messages a minute. Files the bot sends
are download links that work only with this chat's cookie.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import time
import unicodedata
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.channels import Capabilities, SendResult
from bot.inbox import event_of
from bot.types import Incoming, Reply
from db.repos.files import mime_of
from db.repos.web_chat import ChatLine, WebChatRepo

log = logging.getLogger(__name__)

CHANNEL = "web"
PATH = "/chat"
COOKIE = "kc_chat"
COOKIE_DAYS = 90
MAX_TEXT = 4000  # a reply longer than this is split; a phone screen scrolls anyway
MAX_INPUT = 2000  # what a visitor may type in one message
MAX_BODY = 16 * 1024
POLL_SECONDS = 25.0  # how long a fetch of new messages waits when there is none
RECHECK_SECONDS = 5.0  # replies another process sent are seen within this
RUNG_SECONDS = 2.0  # after a send, fetches look every 0.1 s this long for its record
# Replies are recorded as sent a moment after they were "sent" (group commit), and two
# processes' clocks differ a little: each fetch looks this far back; the page drops repeats.
SLACK = timedelta(seconds=5)
STATIC = Path(__file__).with_name("web_static")
STATIC_FILES = {
    "chat.js": "text/javascript",
    "chat.css": "text/css",
}
CAPABILITIES = Capabilities(
    buttons=True, request_phone=False, documents=False, document_links=True, max_text=MAX_TEXT
)

_CHAT_ID = re.compile(r"[A-Za-z0-9_-]{32}")
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
# Security headers for the page: scripts and styles only from this server.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    # Not inside another site's frame: its cookie would not be sent there (SameSite), and
    # a framed chat invites clickjacking. Centres link to the page instead.
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

EMPTY = "Bạn hãy gõ nội dung tin nhắn rồi bấm Gửi."
TOO_LONG = f"Tin nhắn dài quá (tối đa {MAX_INPUT:,} ký tự). Bạn hãy gửi ngắn gọn hơn.".replace(
    ",", "."
)
TOO_BIG = "Nội dung gửi lên quá lớn. Bạn hãy gửi tin nhắn ngắn hơn."
BAD_REQUEST = "Tin nhắn không hợp lệ. Bạn hãy tải lại trang rồi gửi lại."
TOO_FAST = "Bạn gửi nhanh quá. Hãy đợi một phút rồi gửi tiếp."
BUSY = "Máy chủ đang bận. Bạn hãy gửi lại sau ít phút."
FILE_GONE = "Không tìm thấy tệp, hoặc tệp đã hết hạn lưu."


def clean_input(text: str) -> str:
    """Control characters (NUL included) become spaces; line breaks stay."""
    return "".join(
        " " if unicodedata.category(c) == "Cc" and c not in "\n\t" else c for c in text
    ).strip()


def local_address(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    return f"http://{shown}:{port}"


def new_chat_id() -> str:
    return secrets.token_urlsafe(24)  # 32 characters, 192 random bits


class ChatBell:
    """Rings a chat's waiting fetches when the outbox sends it something, and remembers
    when it last rang (a fetch that arrives just after the ring still looks closely)."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}
        self._waiting: dict[str, int] = {}
        self._rung: dict[str, float] = {}

    def ring(self, chat_id: str) -> None:
        now = time.monotonic()
        if len(self._rung) > 10_000:
            self._rung = {c: t for c, t in self._rung.items() if t > now - 60}
        self._rung[chat_id] = now
        event = self._events.get(chat_id)
        if event is not None:
            event.set()

    def rung_within(self, chat_id: str, seconds: float) -> bool:
        return time.monotonic() - self._rung.get(chat_id, -1e9) < seconds

    def ring_all(self) -> None:
        for event in self._events.values():
            event.set()

    async def wait(self, chat_id: str, seconds: float) -> None:
        event = self._events.setdefault(chat_id, asyncio.Event())
        self._waiting[chat_id] = self._waiting.get(chat_id, 0) + 1
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), seconds)
        finally:
            self._waiting[chat_id] -= 1
            if not self._waiting[chat_id]:
                del self._waiting[chat_id]
                self._events.pop(chat_id, None)
            else:
                event.clear()


class WebSender:
    """The outbox's way out to the page: the reply is in the outbox already, and is
    delivered once marked sent; sending only wakes the page's pending fetch."""

    capabilities = CAPABILITIES

    def __init__(self, bell: ChatBell) -> None:
        self.bell = bell

    async def send(self, chat_id: str, reply: Reply) -> SendResult:
        # Rung a little later: the outbox records the row as sent right after this returns.
        asyncio.get_running_loop().call_later(0.02, self.bell.ring, chat_id)
        return SendResult.sent()


class RateLimit:
    """At most ``per_minute`` messages from one address in any 60 seconds."""

    def __init__(self, per_minute: int, clock: Any = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}

    def retry_after(self, address: str) -> float:
        """0 if this message may pass (and count it); else seconds until one may."""
        now = self.clock()
        if len(self._seen) > 10_000:  # forget addresses idle for a minute
            self._seen = {a: q for a, q in self._seen.items() if q and q[-1] > now - 60}
        window = self._seen.setdefault(address, deque())
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) >= self.per_minute:
            return max(1.0, 60 - (now - window[0]))
        window.append(now)
        return 0.0


def _line_json(line: ChatLine) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": line.key,
        "who": line.who,
        "text": line.text,
        "at": line.at.isoformat(),
    }
    if line.buttons:
        data["buttons"] = [[{"label": b[0], "payload": b[1]} for b in row] for row in line.buttons]
    if line.file_id is not None:
        data["file"] = {"url": f"{PATH}/files/{line.file_id}", "name": line.file_name}
    return data


def _error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers or None)


class WebChatTransport:
    capabilities = CAPABILITIES

    def __init__(
        self, app: Any, http: Any, *, required: bool = False, per_minute: int | None = None
    ) -> None:
        self.app = app
        self.http = http
        self.required = required  # a busy port is fatal (kcbot web), or only said once
        self.bell = ChatBell()
        self.sender = WebSender(self.bell)
        self.rate = RateLimit(per_minute or app.settings.web_chat_per_minute)
        self._stopping = False
        http.add_get(PATH, self.page)
        http.add_get(PATH + "/", self.page)
        http.add_get(PATH + "/static/{name}", self.static)
        http.add_get(PATH + "/messages", self.messages)
        http.add_post(PATH + "/messages", self.post)
        http.add_get(PATH + "/files/{id}", self.download)
        http.app.on_shutdown.append(self._on_shutdown)

    async def start(self) -> None:
        self.app.engine.capabilities[CHANNEL] = CAPABILITIES
        self._stopping = False
        if not self.http.started:
            try:
                await self.http.start()
            except OSError as exc:
                if self.required:
                    raise
                # Polling channels work without the server: say it once and go on.
                log.warning(
                    "Web chat not served: cannot listen on %s:%s (%s)",
                    self.http.host,
                    self.http.port,
                    exc.strerror or exc,
                )
                return
        log.info("Web chat: %s", self.address)

    @property
    def address(self) -> str:
        """The chat's address on this machine (an all-interfaces bind shown as 127.0.0.1)."""
        return local_address(self.http.host, self.http.bound_port or self.http.port) + PATH

    async def stop(self) -> None:
        self._stopping = True
        self.bell.ring_all()

    async def _on_shutdown(self, _app: web.Application) -> None:
        # Waiting fetches answer now instead of holding the server's shutdown.
        await self.stop()

    # -- the visitor's chat id -------------------------------------------------------

    def _chat_of(self, request: web.Request) -> str | None:
        value = request.cookies.get(COOKIE, "")
        return value if _CHAT_ID.fullmatch(value) else None

    def _proxied(self, request: web.Request, header: str) -> str:
        """A header set by our own reverse proxy (its last entry), if we trust one."""
        if not self.app.settings.web_trust_proxy:
            return ""
        return request.headers.get(header, "").split(",")[-1].strip()

    def _address(self, request: web.Request) -> str:
        """Who sends, for the rate limit: the proxy's client when behind our own proxy."""
        return self._proxied(request, "X-Forwarded-For") or request.remote or "?"

    def _set_cookie(self, request: web.Request, response: web.StreamResponse, chat_id: str) -> None:
        secure = request.secure or self._proxied(request, "X-Forwarded-Proto").lower() == "https"
        response.set_cookie(
            COOKIE,
            chat_id,
            max_age=COOKIE_DAYS * 86400,
            path=PATH,
            httponly=True,
            samesite="Lax",
            secure=secure,
        )

    # -- routes ------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.StreamResponse:
        body = await asyncio.to_thread((STATIC / "chat.html").read_bytes)
        response = web.Response(body=body, content_type="text/html", charset="utf-8")
        response.headers.update(_HEADERS)
        if self._chat_of(request) is None:
            self._set_cookie(request, response, new_chat_id())
        return response

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in STATIC_FILES:
            raise web.HTTPNotFound()
        body = await asyncio.to_thread((STATIC / name).read_bytes)
        return web.Response(
            body=body,
            content_type=STATIC_FILES[name],
            charset="utf-8",
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
        )

    async def messages(self, request: web.Request) -> web.StreamResponse:
        """``GET /chat/messages[?since=ISO][&wait=1]``: the chat's messages (all, or since
        a moment, with a little overlap); with ``wait``, holds until there is one."""
        chat_id = self._chat_of(request)
        if chat_id is None:  # no chat yet (or a forged cookie): a new, empty one
            response = web.json_response({"messages": [], "now": _now().isoformat()})
            self._set_cookie(request, response, new_chat_id())
            return response
        since: datetime | None = None
        raw_since = request.query.get("since")
        if raw_since:
            try:
                since = datetime.fromisoformat(raw_since)
            except ValueError:
                return _error(400, BAD_REQUEST)
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            since -= SLACK
        wait = request.query.get("wait") == "1" and since is not None
        deadline = time.monotonic() + POLL_SECONDS
        while True:
            now = _now()
            lines = await self._lines(chat_id, since)
            left = deadline - time.monotonic()
            if lines or not wait or self._stopping or left <= 0:
                break
            if self.bell.rung_within(chat_id, RUNG_SECONDS):
                # Rung at send time: the outbox records the row as sent a moment later
                # (longer when the database is busy): look again shortly.
                await asyncio.sleep(min(left, 0.1))
            else:
                await self.bell.wait(chat_id, min(left, RECHECK_SECONDS))
        return web.json_response(
            {"messages": [_line_json(line) for line in lines], "now": now.isoformat()},
            headers={"Cache-Control": "no-store"},
        )

    async def _lines(self, chat_id: str, since: datetime | None) -> list[ChatLine]:
        async with self.app.sessions() as session:
            return await WebChatRepo(session, CHANNEL).lines(chat_id, since)

    async def post(self, request: web.Request) -> web.StreamResponse:
        """``POST /chat/messages`` with ``{"id", "text"}`` or ``{"id", "payload", "label"}``:
        stored in the inbox before the answer (202)."""
        # Another site cannot post for a visitor: a form cannot send JSON, and a script
        # elsewhere would need a CORS preflight, which is never granted. (No Origin check:
        # behind a reverse proxy the Host seen here is not the visitor's.)
        if request.content_type != "application/json":
            return _error(415, BAD_REQUEST)
        if request.content_length is not None and request.content_length > MAX_BODY:
            return _error(413, TOO_BIG)
        try:
            body = await request.content.read(MAX_BODY + 1)
        except Exception:
            return _error(400, BAD_REQUEST)
        if len(body) > MAX_BODY:
            return _error(413, TOO_BIG)
        try:
            data = json.loads(body)
        except ValueError:
            return _error(400, BAD_REQUEST)
        if not isinstance(data, dict):
            return _error(400, BAD_REQUEST)
        client_id, text, payload, label = (
            data.get("id"),
            data.get("text"),
            data.get("payload"),
            data.get("label"),
        )
        if not isinstance(client_id, str) or not _CLIENT_ID.fullmatch(client_id):
            return _error(400, BAD_REQUEST)
        if payload is not None:
            if not isinstance(payload, str) or not 1 <= len(payload.encode()) <= 64:
                return _error(400, BAD_REQUEST)
            label = clean_input(label)[:200] if isinstance(label, str) else ""
            text = None
        else:
            if not isinstance(text, str):
                return _error(400, BAD_REQUEST)
            text = clean_input(text)
            if not text:
                return _error(400, EMPTY)
            if len(text) > MAX_INPUT:
                return _error(413, TOO_LONG)
        wait = self.rate.retry_after(self._address(request))
        if wait:
            return _error(429, TOO_FAST, **{"Retry-After": str(round(wait))})
        chat_id = self._chat_of(request)
        fresh = chat_id is None
        if chat_id is None:
            chat_id = new_chat_id()
        incoming = Incoming(
            channel=CHANNEL,
            chat_id=chat_id,
            user_id=chat_id,
            text=text,
            payload=payload,
            update_id=client_id,
            time=_now(),
        )
        raw = json.dumps({"label": label}, ensure_ascii=False) if payload else None
        try:
            await self.app.inbox.accept([event_of(incoming, f"{chat_id}:{client_id}", raw)])
        except Exception as exc:
            log.warning("web chat message not stored: %s", type(exc).__name__)
            return _error(503, BUSY)
        response = web.json_response({"ok": True, "key": f"u:{client_id}"}, status=202)
        if fresh:
            self._set_cookie(request, response, chat_id)
        return response

    async def download(self, request: web.Request) -> web.StreamResponse:
        chat_id = self._chat_of(request)
        try:
            row_id = int(request.match_info["id"])
        except ValueError:
            row_id = 0
        found = None
        if chat_id is not None and 0 < row_id < 2**31:
            async with self.app.sessions() as session:
                found = await WebChatRepo(session, CHANNEL).document(chat_id, row_id)
        if found is None:
            return web.Response(status=404, text=FILE_GONE, charset="utf-8")
        name, content = found
        ascii_name = name.encode("ascii", "replace").decode()
        safe = "".join(c for c in ascii_name if c.isprintable() and c not in '"\\')
        return web.Response(
            body=content,
            content_type=mime_of(name),
            headers={
                "Content-Disposition": f'attachment; filename="{safe}"; '
                f"filename*=UTF-8''{quote(name)}",
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )


def _now() -> datetime:
    return datetime.now(UTC)
