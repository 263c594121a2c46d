"""Saying that something is unreachable: one line when it starts, then once a minute.

A database or a Bot API that is down makes every retry fail; a traceback per retry would
bury the one fact an operator needs. ``Outage`` logs the first failure as one line naming
what is unreachable, repeats it at most every ``every`` seconds, and says when it is over.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger("kcbot")


class Outage:
    def __init__(
        self,
        name: str,
        where: str = "",
        every: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name, self.where, self.every, self.clock = name, where, every, clock
        self.since: float | None = None
        self.last_said = 0.0
        self.failures = 0

    def failed(self, exc: BaseException, *, retry_in: float, what: str = "") -> None:
        now = self.clock()
        self.failures += 1
        if self.since is None:
            self.since = now
        elif now - self.last_said < self.every:
            return
        self.last_said = now
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        where = f" ({self.where})" if self.where else ""
        headline = what or f"{self.name} is unreachable{where}"
        log.warning(
            "%s — %s; retrying in %.0f s (failures so far: %d)",
            headline,
            reason,
            retry_in,
            self.failures,
        )

    def over(self) -> None:
        if self.since is not None:
            log.warning("%s is reachable again after %.0f s", self.name, self.clock() - self.since)
        self.since = None
        self.failures = 0
