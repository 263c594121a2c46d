"""python-telegram-bot's HTTP layer on aiohttp's client, plus a raw JSON call for hot paths.

``AiohttpRequest`` is a ``telegram.request.BaseRequest``: PTB's ``Bot`` uses it for every
method (getMe, setMyCommands, answerCallbackQuery, sendDocument…) instead of its default
httpx client. httpx with httpcore and anyio cost about a fifth of the bot's CPU per update
(bench/telegram_throughput.py); aiohttp is already what serves the webhooks.

``call`` posts one Bot API method as a JSON body and returns its ``result`` as plain JSON
values, without building python-telegram-bot objects: getUpdates and sendMessage go through
it. Its errors are python-telegram-bot's, chosen exactly as PTB chooses them
(``RetryAfter`` for a 429 with ``retry_after``, ``Forbidden`` 403, ``BadRequest`` 400,
``InvalidToken`` 401/404, ``Conflict`` 409, ``NetworkError`` otherwise), and transport
failures are ``TimedOut`` (a timeout) or ``NetworkError`` (refused, reset, closed…), so the
callers map them to outcomes the same way whichever path raised them.

Timeouts: aiohttp has no write timeout; ``connect`` bounds getting a connection (waiting
for one of the ``connections`` and opening it: pool + connect timeouts), ``sock_read``
bounds each wait for the response, and ``total`` bounds the whole request at the sum of
all four timeouts. ``HTTP(S)_PROXY`` from the environment is honoured, as httpx did. Each
request is logged at DEBUG with its URL, which carries the token (``bot.logs`` redacts it).
"""

from __future__ import annotations

import json
import logging
import ssl
from typing import Any

import aiohttp
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import BaseRequest, RequestData

log = logging.getLogger(__name__)

JSON_HEADERS = {"Content-Type": "application/json"}


def _seconds(value: Any, default: float | None) -> float | None:
    return default if isinstance(value, type(BaseRequest.DEFAULT_NONE)) else value


def _sum(*values: float | None) -> float | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def _ssl_context() -> ssl.SSLContext:
    """Certificates as httpx (python-telegram-bot's default client) verifies them: certifi's
    bundle when installed (it comes with httpx), else the system's."""
    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi comes with python-telegram-bot
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def error_of(status: int, payload: bytes) -> TelegramError:
    """The exception python-telegram-bot raises for this non-2xx answer (same rules)."""
    try:
        data = json.loads(payload)
        if not isinstance(data, dict):
            raise ValueError("not an object")
    except ValueError:
        return NetworkError(f"HTTP {status}. Parsing the server response {payload[:200]!r} failed")
    message = data.get("description") or f"HTTP {status}"
    parameters = data.get("parameters")
    if parameters:
        if parameters.get("migrate_to_chat_id"):
            return ChatMigrated(parameters["migrate_to_chat_id"])
        if parameters.get("retry_after"):
            return RetryAfter(parameters["retry_after"])
        message += f". The server response contained unknown parameters: {parameters}"
    if status == 403:
        return Forbidden(message)
    if status in (401, 404):
        return InvalidToken(message)
    if status == 400:
        return BadRequest(message)
    if status == 409:
        return Conflict(message)
    return NetworkError(message)


class AiohttpRequest(BaseRequest):
    """One aiohttp session with at most ``connections`` connections to the Bot API."""

    def __init__(
        self,
        connections: int = 16,
        *,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self.connections = connections
        self._read = read_timeout
        self._write = write_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._media_write = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._default_timeout = self._timeout(read_timeout, write_timeout, connect_timeout, None)

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.connections, ssl=_ssl_context()),
                trust_env=True,  # HTTP(S)_PROXY, as httpx did
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _timeout(
        self,
        read: float | None,
        write: float | None,
        connect: float | None,
        pool: Any,
    ) -> aiohttp.ClientTimeout:
        pool = self._pool if pool is None else pool
        return aiohttp.ClientTimeout(
            total=_sum(pool, connect, write, read),
            connect=_sum(pool, connect),
            sock_connect=connect,
            sock_read=read,
        )

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        return self._session

    async def _send(
        self, method: str, url: str, limits: aiohttp.ClientTimeout, **kwargs: Any
    ) -> tuple[int, bytes]:
        session = self._open()
        try:
            async with session.request(method, url, timeout=limits, **kwargs) as response:
                payload = await response.read()
        except TimeoutError as exc:  # aiohttp's timeouts are TimeoutErrors too
            raise TimedOut(f"Timed out: {type(exc).__name__}: {exc}") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
        if log.isEnabledFor(logging.DEBUG):
            log.debug("Bot API request: %s %s %s", method, url, response.status)
        return response.status, payload

    async def call(
        self, url: str, params: dict[str, Any], read_timeout: float | None = None
    ) -> Any:
        """POST ``params`` as JSON to the method at ``url``; its ``result`` as JSON values.
        ``read_timeout`` (default: this request's) bounds the wait for the answer."""
        if read_timeout is None:
            timeout = self._default_timeout
        else:
            timeout = self._timeout(read_timeout, self._write, self._connect, None)
        status, payload = await self._send(
            "POST", url, timeout, data=json.dumps(params), headers=JSON_HEADERS
        )
        if not 200 <= status <= 299:
            raise error_of(status, payload)
        try:
            return json.loads(payload)["result"]
        except (ValueError, KeyError, TypeError) as exc:
            raise TelegramError("Invalid server response") from exc

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """See ``BaseRequest.do_request``: a form, multipart when there are files."""
        files = request_data.multipart_data if request_data else None
        timeout = self._timeout(
            _seconds(read_timeout, self._read),
            _seconds(write_timeout, self._media_write if files else self._write),
            _seconds(connect_timeout, self._connect),
            _seconds(pool_timeout, self._pool),
        )
        kwargs: dict[str, Any] = {}
        if request_data is not None:
            if files:
                form = aiohttp.FormData(quote_fields=False)
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (filename, content, mime) in files.items():
                    form.add_field(name, content, filename=filename, content_type=mime)
                kwargs["data"] = form
            else:  # form-encoded, as python-telegram-bot's own client sends them
                kwargs["data"] = request_data.json_parameters
        return await self._send(method, url, timeout, **kwargs)
