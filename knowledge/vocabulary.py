"""The shared vocabulary — sectors and event kinds — read from ``rules/vocabulary.yaml``.

One list each, used by the intake, the reminder subscription and the events import.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from knowledge.normalize import fold_key

VOCABULARY_PATH = Path(__file__).parent / "rules" / "vocabulary.yaml"


@dataclass(frozen=True)
class Term:
    key: str
    label: str
    words: tuple[str, ...] = ()
    icon: str = ""
    aliases: tuple[str, ...] = ()  # old keys still found in stored data


@dataclass(frozen=True)
class Vocabulary:
    sectors: tuple[Term, ...]
    event_kinds: tuple[Term, ...]

    def sector(self, key: str) -> Term | None:
        return _by_key(self.sectors, key)

    def event_kind(self, key: str) -> Term | None:
        return _by_key(self.event_kinds, key)

    def sector_keys_in(self, text: str) -> set[str]:
        """The sectors a free text names ("chế biến gỗ, mây tre" → {"food"})."""
        folded = f" {fold_key(text)} "
        found = set()
        for term in self.sectors:
            if fold_key(text) in (term.key, *term.aliases) or any(
                f" {w} " in folded for w in term.words
            ):
                found.add(term.key)
        return found


def _by_key(terms: tuple[Term, ...], key: str) -> Term | None:
    for term in terms:
        if key == term.key or key in term.aliases:
            return term
    return None


def _terms(raw: Any, what: str) -> tuple[Term, ...]:
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{VOCABULARY_PATH.name}: «{what}» must be a non-empty list")
    terms = []
    for item in raw:
        if not isinstance(item, dict) or not item.get("key") or not item.get("label"):
            raise ValueError(f"{VOCABULARY_PATH.name}: every «{what}» item needs key and label")
        terms.append(
            Term(
                key=str(item["key"]),
                label=str(item["label"]),
                words=tuple(fold_key(str(w)) for w in item.get("words") or ()),
                icon=str(item.get("icon") or ""),
                aliases=tuple(str(a) for a in item.get("aliases") or ()),
            )
        )
    keys = [t.key for t in terms]
    if len(set(keys)) != len(keys):
        raise ValueError(f"{VOCABULARY_PATH.name}: duplicate key in «{what}»")
    return tuple(terms)


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    raw = yaml.safe_load(VOCABULARY_PATH.read_text(encoding="utf-8")) or {}
    return Vocabulary(
        sectors=_terms(raw.get("sectors"), "sectors"),
        event_kinds=_terms(raw.get("event_kinds"), "event_kinds"),
    )
