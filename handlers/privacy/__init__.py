"""Personal data handled as the law asks (Luật 91/2025/QH15, Nghị định 356/2025/NĐ-CP).

- ``require_consent(ctx, then_payload)`` / ``has_consent(ctx)``: the consent gate a feature
  calls before it stores the first personal field;
- ``/dulieu``, ``/xoadulieu``, ``/rutdongy``: see, erase, withdraw — in the chat;
- ``prune(sessions, now, settings, dry_run)``: the retention pass.
"""

from __future__ import annotations

from handlers.base import Feature, Services
from handlers.privacy.feature import (
    NAME,
    PrivacyFeature,
    has_consent,
    notice_text,
    require_consent,
)
from handlers.privacy.retention import prune
from handlers.privacy.texts import NOTICE_VERSION

__all__ = [
    "NAME",
    "NOTICE_VERSION",
    "PrivacyFeature",
    "feature",
    "has_consent",
    "notice_text",
    "prune",
    "require_consent",
]


def feature(services: Services) -> Feature:
    return PrivacyFeature(services)
