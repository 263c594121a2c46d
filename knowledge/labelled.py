"""Questions people asked, each labelled with the topics that answer it
(``knowledge/rules/labelled_questions.tsv``).

The matcher's topic model learns from them how users word a topic ("kp kc", "xin tiền làm
lò", "đi hội chợ mất tiền xe không") beside the entries' own phrasings: an entry is written
once by staff, users keep finding new ways to ask. Out-of-scope lines (``OOS``) are read by
the matcher's topic model as one more class ("not khuyến công") and by the benchmark's
calibration.

Format, a line each: question<TAB>topic ids (comma-separated) or OOS<TAB>variant; ``#`` lines
are comments.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["DEFAULT_LABELLED", "LabelledQuestion", "default_labelled", "read_labelled"]

DEFAULT_LABELLED = Path(__file__).parent / "rules" / "labelled_questions.tsv"


@dataclass(frozen=True)
class LabelledQuestion:
    question: str
    topics: frozenset[str]  # empty: out of scope
    variant: str = "accent"

    @property
    def oos(self) -> bool:
        return not self.topics


def read_labelled(path: Path) -> list[LabelledQuestion]:
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        parts = raw.split("\t")
        if len(parts) < 2:
            raise ValueError(f"{path.name}: a line needs question<TAB>topics: {raw[:60]!r}")
        labels = parts[1].strip()
        topics = frozenset() if labels == "OOS" else frozenset(t.strip() for t in labels.split(","))
        variant = parts[2].strip() if len(parts) > 2 and parts[2].strip() else "accent"
        out.append(LabelledQuestion(parts[0].strip(), topics, variant))
    return out


@lru_cache(maxsize=1)
def default_labelled() -> tuple[LabelledQuestion, ...]:
    """The shipped labelled questions, in-scope and out-of-scope (what the matcher learns)."""
    if not DEFAULT_LABELLED.exists():
        return ()
    return tuple(read_labelled(DEFAULT_LABELLED))
