"""All models, imported so that ``Base.metadata`` knows every table."""

from db.models.base import Base
from db.models.core import Conversation, ProcessedUpdate, User

__all__ = ["Base", "Conversation", "ProcessedUpdate", "User"]

# Feature models register themselves on Base.metadata when imported.
_FEATURES = (
    *("faq", "faq_feedback", "drafts", "events", "privacy", "zalo", "handoff", "staff"),
    "web",
)
for _name in (*_FEATURES, "files"):
    try:
        __import__(f"db.models.{_name}")
    except ModuleNotFoundError as _exc:  # a feature not built yet
        if _exc.name != f"db.models.{_name}":
            raise
