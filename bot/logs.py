"""Log lines without secrets or phone numbers, whoever writes them.

``install(settings)`` replaces the log record factory, so every record of every logger
(ours and the libraries', e.g. httpx logging request URLs that contain the bot token) is
cleaned when it is made, before any handler sees it, at every level:

- every configured secret (Settings fields whose names contain ``token``, ``secret``,
  ``password`` or ``api_key``; the database password) and anything shaped like a Telegram
  bot token becomes ``[REDACTED]``;
- phone numbers (Vietnamese shapes) are masked to their last three digits.

The message is formatted once (``msg % args``) and the traceback text is cleaned too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[REDACTED]"
# <bot id>:<35 characters>, as Telegram issues them (also inside /bot<token>/ URLs).
TELEGRAM_TOKEN = re.compile(r"(?<!\d)\d{5,12}:[A-Za-z0-9_-]{30,}")
# Vietnamese numbers: 0 + 9-10 digits (mobile, landline with area code), or +84 / 84 + 9-10
# digits; single spaces, dots or dashes may separate the digits.
PHONE = re.compile(r"(?<![\w+.])(?:\+84[ .-]?|84|0)\d(?:[ .-]?\d){8,9}(?![\d])")

_state: dict[str, Any] = {"secrets": (), "factory": None, "previous": None}


def mask_phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "*" * (len(digits) - 3) + digits[-3:]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with the secrets and token-shaped strings replaced and phones masked."""
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    text = TELEGRAM_TOKEN.sub(REDACTED, text)
    return PHONE.sub(mask_phone, text)


SECRET_WORDS = ("token", "secret", "password", "api_key")


def configured_secrets(settings: Any) -> tuple[str, ...]:
    """Values of every setting whose name says it is secret (every channel's token and
    secret), and the password in the database address."""
    found = []
    for name in type(settings).model_fields:
        if any(word in name for word in SECRET_WORDS):
            value = getattr(settings, name, None)
            if isinstance(value, str) and len(value) >= 6:
                found.append(value)
    url = getattr(settings, "database_url", None)
    if isinstance(url, str):
        from sqlalchemy.engine import make_url

        try:
            password = make_url(url).password
        except Exception:  # not a URL SQLAlchemy reads: nothing to take from it
            password = None
        if password and len(str(password)) >= 4:
            found.append(str(password))
    # Longest first: a secret that contains another is replaced whole.
    return tuple(sorted(set(found), key=len, reverse=True))


def _clean(record: logging.LogRecord) -> None:
    secrets: tuple[str, ...] = _state["secrets"]
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep what there is
        message = str(record.msg)
    record.msg = redact(message, secrets)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text, secrets)
    if record.stack_info:
        record.stack_info = redact(record.stack_info, secrets)


def install(settings: Any = None, *, secrets: Iterable[str] = ()) -> None:
    """Clean every log record from now on (idempotent; later calls update the secrets)."""
    values = set(secrets)
    if settings is not None:
        values.update(configured_secrets(settings))
    _state["secrets"] = tuple(sorted(values, key=len, reverse=True))
    if _state["factory"] is not None:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _clean(record)
        return record

    _state["factory"], _state["previous"] = factory, previous
    logging.setLogRecordFactory(factory)


def uninstall() -> None:
    """Back to the plain record factory (tests)."""
    factory = _state["factory"]
    if factory is None:
        return
    if logging.getLogRecordFactory() is factory:
        logging.setLogRecordFactory(_state["previous"])
    _state["factory"] = _state["previous"] = None
    _state["secrets"] = ()
