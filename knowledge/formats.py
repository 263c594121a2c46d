"""The one place for the local time zone, dates and money as the bot writes them.

Times are stored in UTC and shown in Asia/Ho_Chi_Minh; dates are dd/mm/yyyy, times
HH:MM; amounts of money are whole đồng, written with dots ("350.000.000 đồng") or, in
running text, in words ("350 triệu đồng").
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WEEKDAYS = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"]


def to_local(moment: datetime) -> datetime:
    """A UTC (or any aware) moment in local time."""
    return moment.astimezone(LOCAL_TZ)


def local_day(moment: datetime) -> date:
    return to_local(moment).date()


def at_local(day: date, hour: int, minute: int = 0) -> datetime:
    """The UTC moment of a local day and hour."""
    return datetime.combine(day, time(hour, minute), LOCAL_TZ).astimezone(UTC)


def date_text(moment: datetime | date | None) -> str:
    """dd/mm/yyyy in local time; empty for None."""
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        moment = to_local(moment)
    return f"{moment:%d/%m/%Y}"


def datetime_text(moment: datetime | None) -> str:
    """dd/mm/yyyy HH:MM in local time; empty for None."""
    if moment is None:
        return ""
    return f"{to_local(moment):%d/%m/%Y %H:%M}"


def time_text(moment: datetime) -> str:
    return f"{to_local(moment):%H:%M}"


def weekday_date(moment: datetime) -> str:
    """ "Thứ Hai 07/12/2026" in local time."""
    local = to_local(moment)
    return f"{WEEKDAYS[local.weekday()]} {local:%d/%m/%Y}"


def money_digits(amount: int | None, blank: str = "…………… đồng") -> str:
    """ "350.000.000 đồng"; ``blank`` (a line to fill in by hand) for None."""
    if amount is None:
        return blank
    return f"{amount:,}".replace(",", ".") + " đồng"


def money_words(amount: int) -> str:
    """An amount for running text: "350 triệu đồng", "1,2 tỷ đồng"; exact digits otherwise.

    Shortened only when nothing is lost (at most three decimals of the unit), so that
    1.234.567.890 đồng is never shown as "1,235 tỷ".
    """
    for unit, word in ((1_000_000_000, "tỷ"), (1_000_000, "triệu")):
        if amount >= unit and amount % (unit // 1000) == 0:
            short = f"{amount / unit:.3f}".rstrip("0").rstrip(".").replace(".", ",")
            return f"{short} {word} đồng"
    return money_digits(amount)
