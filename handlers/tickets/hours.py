"""The centre's working hours, read from the ``centre_hours`` setting as staff write it
(«Thứ Hai – Thứ Sáu, 7:30–11:30 và 13:30–17:00»): is it open now, and when do N working
hours after a moment end. Unreadable text falls back to Monday–Friday 7:30–17:00."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from knowledge.formats import LOCAL_TZ
from knowledge.normalize import fold_key

_DAYS = {
    "thu hai": 0,
    "thu 2": 0,
    "thu ba": 1,
    "thu 3": 1,
    "thu tu": 2,
    "thu 4": 2,
    "thu nam": 3,
    "thu 5": 3,
    "thu sau": 4,
    "thu 6": 4,
    "thu bay": 5,
    "thu 7": 5,
    "chu nhat": 6,
    "cn": 6,
}
_DAY = re.compile(r"(thu (?:hai|ba|tu|nam|sau|bay|[2-7])|chu nhat|\bcn\b)")
_RANGE = re.compile(r"(\d{1,2})\s*[:h]\s*(\d{2})?\s*[-–—]\s*(\d{1,2})\s*[:h]\s*(\d{2})?")


@dataclass(frozen=True)
class Hours:
    days: frozenset[int]
    spans: tuple[tuple[time, time], ...]

    def open_at(self, moment: datetime) -> bool:
        local = moment.astimezone(LOCAL_TZ)
        if local.weekday() not in self.days:
            return False
        now = local.time()
        return any(start <= now < end for start, end in self.spans)

    def add_working(self, start: datetime, hours: float) -> datetime:
        """The moment ``hours`` working hours after ``start``."""
        left = timedelta(hours=hours)
        local = start.astimezone(LOCAL_TZ)
        day = local.date()
        for _ in range(400):
            if day.weekday() in self.days:
                for s, e in self.spans:
                    begin = datetime.combine(day, s, LOCAL_TZ)
                    end = datetime.combine(day, e, LOCAL_TZ)
                    begin = max(begin, local)
                    if begin >= end:
                        continue
                    if end - begin >= left:
                        return begin + left
                    left -= end - begin
            day += timedelta(days=1)
        return start + timedelta(hours=hours)


DEFAULT = Hours(frozenset(range(5)), ((time(7, 30), time(17, 0)),))


def parse_hours(text: str) -> Hours:
    spans = []
    for m in _RANGE.finditer(text):
        h1, m1, h2, m2 = int(m[1]), int(m[2] or 0), int(m[3]), int(m[4] or 0)
        if h1 < 24 and h2 <= 24 and m1 < 60 and m2 < 60:
            end = time(23, 59) if h2 == 24 else time(h2, m2)
            if time(h1, m1) < end:
                spans.append((time(h1, m1), end))
    folded = fold_key(text)
    named = [_DAYS[d] for d in _DAY.findall(folded)]
    day_part = _RANGE.sub("", text)
    if len(named) == 2 and (re.search(r"[-–—]", day_part) or " den " in f" {folded} "):
        first, last = named[0], named[1]
        days = frozenset((first + i) % 7 for i in range((last - first) % 7 + 1))
    elif named:
        days = frozenset(named)
    else:
        days = DEFAULT.days
    if not spans:
        return Hours(days, DEFAULT.spans)
    return Hours(days, tuple(sorted(spans)))
