"""The domain thesaurus (``knowledge/rules/thesaurus.yaml``): synonyms rewritten to one form
at index and query time, subjects that are not khuyến công, and the score above which a
question is answered although it names no khuyến công word.

Data, not code: a new synonym or off-topic subject is one line in the YAML file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from knowledge.normalize import tokens as norm_tokens

__all__ = ["DEFAULT_THESAURUS", "Thesaurus", "default_thesaurus"]

DEFAULT_THESAURUS = Path(__file__).parent / "rules" / "thesaurus.yaml"


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(norm_tokens(str(text)))


@dataclass(frozen=True)
class Thesaurus:
    # variant phrase -> canonical phrase (both as syllable tuples)
    synonyms: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    off_topic: tuple[tuple[str, ...], ...] = ()
    strong_without_domain: float = 0.8
    # Procedure and question syllables that say nothing about a question's subject.
    generic: frozenset[str] = frozenset()
    # Phrases naming who asks: a kind of facility (hợp tác xã, doanh nghiệp ...).
    actors: tuple[tuple[str, ...], ...] = ()

    @cached_property
    def longest(self) -> int:
        return max((len(v) for v in self.synonyms), default=0)

    @classmethod
    def from_data(cls, data: dict) -> Thesaurus:  # type: ignore[type-arg]
        synonyms: dict[tuple[str, ...], tuple[str, ...]] = {}
        for group in data.get("synonyms") or []:
            phrases = [p for p in (_phrase(x) for x in group) if p]
            if len(phrases) < 2:
                continue
            canonical = phrases[0]
            for variant in phrases[1:]:
                if variant != canonical:
                    synonyms.setdefault(variant, canonical)
        off = tuple(p for p in (_phrase(x) for x in data.get("off_topic") or []) if p)
        strong = float(data.get("strong_without_domain", 0.8))
        generic = frozenset(w for x in data.get("generic") or [] for w in _phrase(x))
        actors = tuple(p for p in (_phrase(x) for x in data.get("actors") or []) if p)
        return cls(synonyms, off, strong, generic, actors)

    @classmethod
    def load(cls, path: Path = DEFAULT_THESAURUS) -> Thesaurus:
        import yaml

        return cls.from_data(yaml.safe_load(path.read_text(encoding="utf-8")) or {})

    @cached_property
    def _starts(self) -> frozenset[str]:
        """First syllables of the variant phrases: most syllables start none."""
        return frozenset(v[0] for v in self.synonyms)

    def rewrite(self, toks: Sequence[str]) -> list[str]:
        """Every variant phrase replaced by its canonical phrase (longest match first)."""
        if not self.synonyms:
            return list(toks)
        out: list[str] = []
        i, n, longest, starts = 0, len(toks), self.longest, self._starts
        while i < n:
            if toks[i] not in starts:
                out.append(toks[i])
                i += 1
                continue
            for size in range(min(longest, n - i), 0, -1):
                canonical = self.synonyms.get(tuple(toks[i : i + size]))
                if canonical is not None:
                    out.extend(canonical)
                    i += size
                    break
            else:
                out.append(toks[i])
                i += 1
        return out

    def actor_terms(self, toks: Sequence[str]) -> set[str]:
        """The question's syllables and syllable pairs that lie wholly inside a phrase naming
        who asks (every occurrence, for a syllable)."""
        inside = [False] * len(toks)
        for phrase in self.actors:
            n = len(phrase)
            for i in range(len(toks) - n + 1):
                if tuple(toks[i : i + n]) == phrase:
                    inside[i : i + n] = [True] * n
        if not any(inside):
            return set()
        out = {
            f"{toks[i]} {toks[i + 1]}" for i in range(len(toks) - 1) if inside[i] and inside[i + 1]
        }
        out |= {t for t in set(toks) if all(inside[i] for i, u in enumerate(toks) if u == t)}
        return out

    def off_topic_in(self, toks: Sequence[str]) -> list[tuple[str, ...]]:
        """The off-topic subjects the tokens mention."""
        return [p for p in self.off_topic if _contains(toks, p)]


def _contains(toks: Sequence[str], phrase: Iterable[str]) -> bool:
    p = tuple(phrase)
    n = len(p)
    return any(tuple(toks[i : i + n]) == p for i in range(len(toks) - n + 1))


@lru_cache(maxsize=1)
def default_thesaurus() -> Thesaurus:
    return Thesaurus.load()
