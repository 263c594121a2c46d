"""One list of sectors and of event kinds, as data (knowledge/rules/vocabulary.yaml)."""

from __future__ import annotations

from db.models.events import EVENT_KINDS
from handlers.intake.steps import SECTORS as INTAKE_SECTORS
from handlers.reminders.scheduling import SECTORS as REMINDER_SECTORS
from handlers.reminders.scheduling import sector_keys
from knowledge.vocabulary import vocabulary


def test_event_kinds_are_the_database_kinds():
    assert tuple(t.key for t in vocabulary().event_kinds) == EVENT_KINDS
    assert all(t.label and t.icon and t.words for t in vocabulary().event_kinds)


def test_intake_and_reminders_offer_the_same_sectors():
    shared = {t.key: t.label for t in vocabulary().sectors}
    assert shared == REMINDER_SECTORS
    assert {k: v for k, v in INTAKE_SECTORS.items() if k != "other"} == shared


def test_sectors_in_free_text_and_old_keys():
    assert sector_keys(["Chế biến gỗ", "mây tre đan thủ công"]) == {"food", "craft"}
    assert sector_keys(["Dệt may"]) == {"consumer"}
    assert vocabulary().sector("textile") == vocabulary().sector("consumer")  # an old key
    assert sector_keys(["du lịch"]) == set()
