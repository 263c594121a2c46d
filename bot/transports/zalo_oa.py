"""Zalo Official Account (OA API v3): signed webhooks into the inbox, replies out as
neutral outcomes, OAuth tokens rotated safely.

Receiving: Zalo POSTs events to ``{KCBOT_WEBHOOK_BASE}/zalo/oa`` on the shared server. The
``X-ZEvent-Signature`` header must be ``sha256(app_id + raw body + timestamp + OA secret
key)`` (hex, with or without ``mac=``); anything else gets 403 and nothing is stored. A
signed event is stored in the inbox, then answered 200 (Zalo wants it within 2 s).

Sending: ``POST /v3.0/oa/message/cs`` with the ``access_token`` header. Buttons are a
template of ``oa.query.show`` buttons whose payload (``#feature:action``) comes back as a
``user_send_text`` event, read as a button press; the phone step is the
``request_user_info`` template, answered by a ``user_submit_info`` event. Files: the OA
API takes images only after an upload, no documents — so a document is stored in the
database and sent as a download link, ``{KCBOT_WEBHOOK_BASE}/files/{token}``, served by the
shared webhook server for 7 days (``document_links=True``).

Tokens: the pair lives in the database (``db.repos.zalo``). A refresh takes a database
lock, checks nobody refreshed meanwhile, calls OAuth, then saves the new pair and marks
the old one used in one transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels import Capabilities, Outcome, SendResult
from bot.inbox import event_of
from bot.outage import Outage
from bot.outbox import SystemClock, TokenBucket
from bot.render import render
from bot.transports.http import FILES_PATH
from bot.types import Incoming, Reply
from db.models.base import utcnow

log = logging.getLogger(__name__)

CHANNEL = "zalo_oa"
PATH = "/zalo/oa"
MAX_TEXT = 2000
MAX_TITLE = 100
CAPABILITIES = Capabilities(
    buttons=True, request_phone=True, documents=False, document_links=True, max_text=MAX_TEXT
)
DOCUMENT_LINK = "📎 Tải đơn đề nghị: {url}\n(Liên kết dùng được {days} ngày.)"
# What a button sends back: its payload prefixed with '#', shown in the chat as the user's
# message and delivered as ``user_send_text``.
BUTTON_TYPE = "oa.query.show"
PAYLOAD_RE = re.compile(r"^#([a-z][a-z0-9_]*:[^\s]*)$")
PHONE_TITLE = "Chia sẻ số điện thoại"
PHONE_SUBTITLE = "Bấm vào đây để gửi số điện thoại Zalo của bạn cho Trung tâm."

TOKEN_ERRORS = {-216, -220}
OUTSIDE_WINDOW = {-230, -232}
RATE_LIMIT = -32
NOT_FOLLOWING = -213
RATE_LIMIT_PAUSE = 15.0
# Refresh this long before the access token expires.
REFRESH_MARGIN = timedelta(minutes=30)
FREE_WINDOW = timedelta(hours=48)
# How a reminder or broadcast row refused for the 7-day window is marked (its last error).
OUTSIDE_WINDOW_NOTE = "ngoài cửa sổ 7 ngày"
IGNORED_EVENTS = {"user_seen_message", "user_received_message"}
NON_TEXT_EVENTS = {
    "user_send_image",
    "user_send_sticker",
    "user_send_file",
    "user_send_audio",
    "user_send_video",
    "user_send_location",
    "user_send_gif",
    "user_send_link",
    "user_send_business_card",
}


# --- signature and events ------------------------------------------------------------------


def signature(raw: bytes, timestamp: str, app_id: str, oa_secret: str) -> str:
    return hashlib.sha256(
        app_id.encode() + raw + timestamp.encode() + oa_secret.encode()
    ).hexdigest()


def signature_ok(raw: bytes, header: str | None, app_id: str, oa_secret: str) -> bool:
    """Zalo's ``X-ZEvent-Signature`` for this raw body (the timestamp is the body's)."""
    if not header or not app_id or not oa_secret:
        return False
    try:
        data = json.loads(raw)
        timestamp = str(data["timestamp"])
    except (ValueError, KeyError, TypeError):
        return False
    want = signature(raw, timestamp, app_id, oa_secret)
    got = header.strip()
    if got.lower().startswith("mac="):
        got = got[4:]
    return hmac.compare_digest(want.encode(), got.strip().lower().encode())


def _moment(timestamp: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(timestamp) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.now(UTC)


def user_of(data: dict[str, Any]) -> str | None:
    for key in ("sender", "follower", "user"):
        part = data.get(key)
        if isinstance(part, dict) and part.get("id"):
            return str(part["id"])
    return None


def external_id_of(data: dict[str, Any], user: str) -> str:
    message = data.get("message")
    if isinstance(message, dict) and message.get("msg_id"):
        return f"msg:{message['msg_id']}"[:128]
    return f"{data.get('event_name')}:{data.get('timestamp')}:{user}"[:128]


def to_incoming(data: dict[str, Any]) -> Incoming | None:
    """The ``Incoming`` for an event the bot answers; None for the rest."""
    event = str(data.get("event_name") or "")
    user = user_of(data)
    if user is None:
        return None
    message = data.get("message") if isinstance(data.get("message"), dict) else {}
    assert isinstance(message, dict)
    base: dict[str, Any] = {
        "channel": CHANNEL,
        "chat_id": user,
        "user_id": user,
        "update_id": external_id_of(data, user),
        "time": _moment(data.get("timestamp")),
    }
    if event == "user_send_text":
        text = str(message.get("text") or "")
        tapped = PAYLOAD_RE.match(text.strip())
        if tapped:
            return Incoming(**base, payload=tapped.group(1))
        return Incoming(**base, text=text)
    if event in NON_TEXT_EVENTS or event.startswith("user_send_"):
        caption = message.get("text")
        shown = caption if isinstance(caption, str) and caption.strip() else None
        return Incoming(**base, text=shown)
    if event == "follow":
        return Incoming(**base, text="/start")
    if event == "user_submit_info":
        info = data.get("info") if isinstance(data.get("info"), dict) else {}
        assert isinstance(info, dict)
        phone = str(info.get("phone") or "").strip()
        name = info.get("name")
        if not phone:
            return None
        return Incoming(**base, phone=phone, display_name=name if isinstance(name, str) else None)
    return None


# --- tokens --------------------------------------------------------------------------------


class TokenError(Exception):
    """No usable token: none seeded, or OAuth refused the refresh token."""


class TokenManager:
    """The current access token; refreshed before expiry or when Zalo refuses it."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Any,
        http: Callable[[], aiohttp.ClientSession],
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.http = http
        self.now = now
        self._token: str | None = None
        self._expires: datetime | None = None
        self._lock = asyncio.Lock()
        self.refreshes = 0

    async def get(self) -> str:
        if self._token and self._expires and self._expires - self.now() > REFRESH_MARGIN:
            return self._token
        from db.repos.zalo import ZaloTokenRepo

        async with self.sessions() as session:
            row = await ZaloTokenRepo(session).current()
        if row is None:
            raise TokenError("no Zalo OA token: run kcbot zalo-oa set-tokens ACCESS REFRESH")
        self._token, self._expires = row.access_token, row.expires_at
        if row.expires_at - self.now() > REFRESH_MARGIN:
            return row.access_token
        return await self.refresh(row.access_token)

    async def refresh(self, stale: str | None) -> str:
        """A fresh token. ``stale`` is the one Zalo refused (or that is about to expire):
        if another worker already replaced it, that worker's token is used."""
        from db.repos.zalo import ZaloTokenRepo

        async with self._lock, self.sessions() as session, session.begin():
            repo = ZaloTokenRepo(session)
            await repo.lock()
            row = await repo.current()
            if row is None:
                raise TokenError("no Zalo OA token: run kcbot zalo-oa set-tokens ACCESS REFRESH")
            now = self.now()
            if row.access_token != stale and row.expires_at - now > REFRESH_MARGIN:
                self._token, self._expires = row.access_token, row.expires_at
                return row.access_token
            access, refresh, expires_in = await self._call_oauth(row.refresh_token)
            expires = now + timedelta(seconds=expires_in)
            await repo.rotate(row.id, access, refresh, expires, now)
        self.refreshes += 1
        self._token, self._expires = access, expires
        log.info("Zalo OA: access token refreshed, valid until %s", expires.isoformat())
        return access

    async def _call_oauth(self, refresh_token: str) -> tuple[str, str, int]:
        url = self.settings.zalo_oauth_base_url.rstrip("/") + "/v4/oa/access_token"
        form = {
            "app_id": self.settings.zalo_app_id or "",
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        }
        headers = {"secret_key": self.settings.zalo_app_secret or ""}
        async with self.http().post(url, data=form, headers=headers) as response:
            body = await response.json(content_type=None)
        if not isinstance(body, dict) or not body.get("access_token"):
            detail = (
                body.get("message") or body.get("error_description")
                if isinstance(body, dict)
                else body
            )
            raise TokenError(f"Zalo OAuth refused the refresh token: {detail}")
        return (
            str(body["access_token"]),
            str(body["refresh_token"]),
            int(str(body.get("expires_in") or "90000")),
        )


# --- sending -------------------------------------------------------------------------------


def _button(label: str, payload: str) -> dict[str, Any]:
    return {"title": label[:MAX_TITLE], "type": BUTTON_TYPE, "payload": f"#{payload}"}


def messages_of(reply: Reply) -> list[dict[str, Any]]:
    """The OA message bodies (``message`` field) for one neutral reply."""
    out: list[dict[str, Any]] = []
    for part in render([reply], CAPABILITIES):
        buttons = [_button(b.label, b.payload) for b in part.all_buttons()]
        text = part.text if part.text.strip() else ("…" if buttons else "")
        if text:
            message: dict[str, Any] = {"text": text}
            if buttons:
                message["attachment"] = {"type": "template", "payload": {"buttons": buttons}}
            out.append(message)
        if part.request_phone:
            out.append(
                {
                    "attachment": {
                        "type": "template",
                        "payload": {
                            "template_type": "request_user_info",
                            "elements": [{"title": PHONE_TITLE, "subtitle": PHONE_SUBTITLE}],
                        },
                    }
                }
            )
    return out


class ZaloOASender:
    """Sends neutral replies through the OA API; one attempt each (a refused token is
    refreshed and the message tried once more)."""

    capabilities = CAPABILITIES

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Any,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.now = now
        self._http: aiohttp.ClientSession | None = None
        self.tokens = TokenManager(sessions, settings, self.client, now)
        per_second = settings.zalo_oa_rate_per_minute / 60.0
        self.bucket = TokenBucket(per_second, max(1.0, per_second), SystemClock())
        self.url = settings.zalo_oa_api_base_url.rstrip("/") + "/v3.0/oa/message/cs"
        self.outage = Outage("Zalo OA API", settings.zalo_oa_api_base_url)
        self.billed = 0

    def client(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def __aenter__(self) -> ZaloOASender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def send(self, chat_id: str, reply: Reply) -> SendResult:
        try:
            if reply.document is not None:
                reply = await self._with_link(reply)
            for message in messages_of(reply):
                result = await self._send_one(chat_id, message)
                if result.outcome is not Outcome.SENT:
                    return result
        except TokenError as exc:
            self.outage.failed(exc, retry_in=60, what="Zalo OA token")
            return SendResult(Outcome.TRANSIENT, detail=str(exc))
        except (aiohttp.ClientError, TimeoutError, ValueError, SQLAlchemyError) as exc:
            return SendResult(Outcome.TRANSIENT, detail=f"{type(exc).__name__}: {exc}")
        self.outage.over()
        await self._note_billing(chat_id)
        return SendResult.sent()

    async def _with_link(self, reply: Reply) -> Reply:
        """The reply with its document stored and replaced by a download link."""
        from db.repos.files import LINK_DAYS, SharedFileRepo

        document = reply.document
        assert document is not None
        async with self.sessions() as session, session.begin():
            token = await SharedFileRepo(session).share(
                document.filename, document.content, document.mime_type, self.now()
            )
        base = (self.settings.webhook_base or "").rstrip("/")
        link = DOCUMENT_LINK.format(url=f"{base}{FILES_PATH}/{token}", days=LINK_DAYS)
        text = "\n\n".join(p for p in (reply.text.strip(), link) if p)
        return replace(reply, text=text, document=None)

    async def _send_one(self, chat_id: str, message: dict[str, Any]) -> SendResult:
        body = {"recipient": {"user_id": chat_id}, "message": message}
        token = await self.tokens.get()
        for attempt in range(2):
            await self.bucket.acquire()
            async with self.client().post(
                self.url, json=body, headers={"access_token": token}
            ) as response:
                if response.status >= 500:
                    return SendResult(Outcome.TRANSIENT, detail=f"HTTP {response.status}")
                data = await response.json(content_type=None)
            error = int(data.get("error", 0)) if isinstance(data, dict) else -1
            if error in TOKEN_ERRORS and attempt == 0:
                token = await self.tokens.refresh(token)
                continue
            return result_of(error, data)
        return SendResult(Outcome.TRANSIENT, detail="access token refused after refresh")

    async def _note_billing(self, chat_id: str) -> None:
        """A message 48 h – 7 days after the user's last interaction is billed: record it."""
        from db.repos.core import UserRepo
        from db.repos.zalo import ZaloTokenRepo

        try:
            async with self.sessions() as session, session.begin():
                user = await UserRepo(session).get(CHANNEL, chat_id)
                last = user.last_seen if user is not None else None
                now = self.now()
                if last is None or now - last <= FREE_WINDOW:
                    return
                await ZaloTokenRepo(session).record_billed(chat_id, now, last)
            self.billed += 1
        except Exception:
            log.exception("could not record a billed Zalo OA message")


def result_of(error: int, data: Any) -> SendResult:
    """An OA API answer as a neutral outcome."""
    detail = str(data.get("message", "")) if isinstance(data, dict) else str(data)
    if error == 0:
        return SendResult.sent()
    if error in OUTSIDE_WINDOW:
        return SendResult(
            Outcome.UNREACHABLE,
            detail=f"{OUTSIDE_WINDOW_NOTE} ({error}: {detail})",
            reason="outside_window",
        )
    if error == RATE_LIMIT:
        return SendResult(Outcome.RATE_LIMITED, retry_after=RATE_LIMIT_PAUSE, detail=detail)
    if error == NOT_FOLLOWING:
        return SendResult(Outcome.UNREACHABLE, detail=f"{error}: {detail}")
    if error in TOKEN_ERRORS:
        return SendResult(Outcome.TRANSIENT, detail=f"{error}: {detail}")
    return SendResult(Outcome.REJECTED, detail=f"{error}: {detail}")


# --- the transport -------------------------------------------------------------------------


class ZaloOATransport:
    """Receives the OA's webhooks into the inbox and offers ``sender`` for the outbox."""

    capabilities = CAPABILITIES

    def __init__(self, app: Any, http: Any) -> None:  # bot.app.App, WebServer
        from bot.transports.http import path_of

        self.app = app
        self.settings = app.settings
        self.sender = ZaloOASender(app.sessions, self.settings, app.services.now)
        self.path = path_of(self.settings.webhook_base, PATH)
        self.http = http
        http.add_post(self.path, self.on_webhook)
        http.serve_files(self.settings.webhook_base, app.sessions, app.services.now)
        self._started = False
        self.received = 0

    async def start(self) -> None:
        self.app.engine.capabilities[CHANNEL] = CAPABILITIES
        await self.http.start()
        self._started = True
        log.info("Zalo OA: receiving webhooks at %s", self.path)

    async def stop(self) -> None:
        """No new events (the shared server is stopped by its owner)."""
        self._started = False

    async def close(self) -> None:
        """After the workers stopped: the sender's connections."""
        await self.sender.close()

    async def on_webhook(self, request: web.Request) -> web.Response:
        raw = await request.read()
        header = request.headers.get("X-ZEvent-Signature")
        app_id = self.settings.zalo_app_id or ""
        secret = self.settings.zalo_oa_secret_key or ""
        if not signature_ok(raw, header, app_id, secret):
            log.warning("Zalo OA webhook with a wrong or missing signature from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        data = json.loads(raw)
        if not isinstance(data, dict):
            return web.Response(status=400, text="bad event")
        if not self._started:
            return web.Response(status=503, text="stopping")
        try:
            await self.receive(data, raw.decode("utf-8", "replace"))
        except Exception as exc:  # not stored: Zalo retries when it gets no 200
            log.warning("Zalo OA event not stored: %s", exc)
            return web.Response(status=503, text="try again")
        return web.Response(text="ok")

    async def receive(self, data: dict[str, Any], raw: str | None = None) -> None:
        event = str(data.get("event_name") or "")
        if event == "unfollow":
            user = user_of(data)
            if user is not None:
                await self._mark_unreachable(user)
            return
        if event.startswith("oa_send_") or event in IGNORED_EVENTS:
            return
        incoming = to_incoming(data)
        if incoming is None:
            return
        assert incoming.update_id is not None
        if event == "follow":
            # Reachable again at once (the engine refreshes the user row only now and then).
            await self._mark_reachable(incoming.chat_id)
        self.received += 1
        await self.app.inbox.accept([event_of(incoming, incoming.update_id, raw)])

    async def _mark_reachable(self, chat_id: str) -> None:
        from db.repos.zalo import ZaloTokenRepo

        async with self.app.sessions() as session, session.begin():
            await ZaloTokenRepo(session).mark_reachable(CHANNEL, chat_id)

    async def _mark_unreachable(self, chat_id: str) -> None:
        from db.repos.core import UserRepo

        async with self.app.sessions() as session, session.begin():
            await UserRepo(session).mark_unreachable(CHANNEL, chat_id)
        log.info("zalo_oa user %s unfollowed the OA", chat_id)
