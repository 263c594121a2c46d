"""Local time, dates and money as the bot writes them (knowledge.formats)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from knowledge.formats import (
    at_local,
    date_text,
    datetime_text,
    local_day,
    money_digits,
    money_words,
    weekday_date,
)


def test_dates_are_local_day_first():
    late = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # 00:30 on 1 January in Vietnam
    assert local_day(late) == date(2027, 1, 1)
    assert date_text(late) == "01/01/2027"
    assert datetime_text(late) == "01/01/2027 00:30"
    assert weekday_date(late) == "Thứ Sáu 01/01/2027"
    assert date_text(None) == "" and datetime_text(None) == ""
    assert at_local(date(2027, 1, 1), 8) == datetime(2027, 1, 1, 1, 0, tzinfo=UTC)


def test_money_in_digits_and_words():
    assert money_digits(350_000_000) == "350.000.000 đồng"
    assert money_digits(None) == "…………… đồng"
    assert money_words(350_000_000) == "350 triệu đồng"
    assert money_words(1_200_000_000) == "1,2 tỷ đồng"
    assert money_words(1_234_567_890) == "1.234.567.890 đồng"  # nothing lost by rounding
    assert money_words(999_000) == "999.000 đồng"
