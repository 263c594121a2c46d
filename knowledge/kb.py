"""The knowledge-base service the bot uses: content + matcher, reloaded when files change."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from knowledge.content import Entry
    from knowledge.matcher import Matcher, MatchResult

__all__ = ["KnowledgeBase"]

log = logging.getLogger(__name__)

# How often reload_if_changed looks at the files at most.
RELOAD_INTERVAL = 3.0

_Signature = tuple[tuple[str, int, int], ...]


def _signature(path: Path) -> _Signature:
    """(name, mtime_ns, size) of every data file: cheap to compute, changes on every save."""
    files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else [path]
    out = []
    for file in files:
        try:
            st = file.stat()
        except OSError:
            continue
        out.append((file.name, st.st_mtime_ns, st.st_size))
    return tuple(out)


class KnowledgeBase:
    """Entries and their matcher. Build with ``KnowledgeBase.load``."""

    def __init__(self, entries: list[Entry], path: Path | None = None) -> None:
        from knowledge.matcher import Matcher

        self.path = path
        self._entries = list(entries)
        self._by_id = {e.id: e for e in self._entries}
        self._matcher: Matcher = Matcher(self._entries)
        self._signature: _Signature = _signature(path) if path is not None else ()
        self._checked_at = time.monotonic()
        self._lock = threading.Lock()
        self._failed_signature: _Signature | None = None
        # Problems of the files on disk when they could not be loaded; [] when served as is.
        self.problems: list[str] = []

    @classmethod
    def load(cls, path: Path | None = None) -> KnowledgeBase:
        """Load and validate the content (default: knowledge/data); raises ContentError."""
        from knowledge.content import DEFAULT_DATA_DIR, load_entries

        path = Path(path) if path is not None else DEFAULT_DATA_DIR
        signature = _signature(path)
        kb = cls(load_entries(path), path)
        kb._signature = signature
        return kb

    # ----------------------------------------------------------------------------------

    @property
    def entries(self) -> list[Entry]:
        return list(self._entries)

    @property
    def matcher(self) -> Matcher:
        return self._matcher

    def answer(self, question: str, k: int = 3) -> MatchResult:
        return self._matcher.match(question, k=k)

    def entry(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)

    def entries_by_topic(self, topic: str) -> list[Entry]:
        return [e for e in self._entries if e.topic == topic]

    def topics(self) -> list[str]:
        return list(dict.fromkeys(e.topic for e in self._entries))

    def reload_if_changed(self, *, force: bool = False) -> list[str]:
        """Rebuild if the data files changed; return content problems ([] when fine).

        Looks at the files at most every ``RELOAD_INTERVAL`` seconds (unless ``force``).
        Broken new content is not served: the last good content stays and the problems are
        returned once for the caller to log (``problems`` keeps them until the files are
        fixed; the same broken files are not parsed again).
        """
        if self.path is None:
            return []
        now = time.monotonic()
        if not force and now - self._checked_at < RELOAD_INTERVAL:
            return []
        if not self._lock.acquire(blocking=False):
            return []  # another thread is reloading
        try:
            self._checked_at = now
            signature = _signature(self.path)
            if signature == self._signature or signature == self._failed_signature:
                return []
            from knowledge.content import ContentError, load_entries
            from knowledge.matcher import Matcher

            try:
                entries = load_entries(self.path)
            except ContentError as exc:
                log.warning("knowledge base not reloaded: %s", exc)
                self._failed_signature = signature
                self.problems = list(exc.problems)
                return list(exc.problems)
            matcher = Matcher(entries)
            # Swap whole objects: readers see either the old or the new content.
            self._by_id = {e.id: e for e in entries}
            self._entries = entries
            self._matcher = matcher
            self._signature = signature
            self._failed_signature = None
            self.problems = []
            log.info("knowledge base reloaded: %d entries", len(entries))
            return []
        finally:
            self._lock.release()
