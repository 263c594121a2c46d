"""Parsers for the intake answers: money, counts, phone numbers, registration numbers.

Each returns the normalised value, or raises ``Invalid`` with a short Vietnamese message
saying what to send (the dialogue adds the question again).
"""

from __future__ import annotations

import re

from handlers.forms.model import Hint
from knowledge.normalize import fold, fold_key


class Invalid(Hint):
    """The answer can't be used; ``str(exc)`` is the message for the user."""


MAX_MONEY = 1_000_000_000_000  # 1.000 tỷ: more is a typo for a rural facility
_UNITS = {
    "ty": 1_000_000_000,
    "ti": 1_000_000_000,
    "trieu": 1_000_000,
    "tr": 1_000_000,
    "cu": 1_000_000,  # slang: "350 củ"
    "nghin": 1_000,
    "ngan": 1_000,
    "k": 1_000,
}
_NUMBER = r"\d+(?:[.,]\d+)*"
_MONEY_PART = re.compile(rf"({_NUMBER})\s*(ty|ti|trieu|tr|cu|nghin|ngan|k)?(?![a-z])")
_CURRENCY = re.compile(r"\b(vnd|vnđ|dong|d)\b")


def _number(raw: str) -> float:
    """ "350.000.000" / "350,000,000" -> 350000000; "1,2" / "1.2" -> 1.2."""
    separators = re.findall(r"[.,]", raw)
    if not separators:
        return float(raw)
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", raw) and len(set(separators)) == 1:
        return float(re.sub(r"[.,]", "", raw))
    if re.fullmatch(r"\d+[.,]\d+", raw):
        return float(raw.replace(",", "."))
    m = re.fullmatch(r"(\d{1,3}(?:([.,])\d{3})*)([.,])(\d+)", raw)  # "1.234,5"
    if m and m.group(2) != m.group(3):
        return float(re.sub(r"[.,]", "", m.group(1)) + "." + m.group(4))
    raise Invalid("")


def parse_money(text: str) -> int:
    """ "350 triệu", "350tr", "1,2 tỷ", "2 ty 300 trieu", "350.000.000 đ" -> đồng."""
    example = "Ví dụ: 350 triệu, 1,2 tỷ hoặc 350.000.000"
    folded = _keep_separators(text)
    folded = _CURRENCY.sub(" ", folded).strip()
    if not folded or not re.search(r"\d", folded):
        raise Invalid(f"Bạn gửi số tiền bằng chữ số nhé. {example}.")
    total = 0.0
    pos = 0
    parts = 0
    has_unit = False
    for m in _MONEY_PART.finditer(folded):
        between = folded[pos : m.start()].strip()
        if between and between not in ("va", "+", "khoang", "tam", "gan", "hon", "duoi"):
            raise Invalid(f"Mình chưa hiểu số tiền này. {example}.")
        raw, unit = m.group(1), m.group(2)
        try:
            value = _number(raw)
        except Invalid:
            raise Invalid(f"Mình chưa hiểu số tiền này. {example}.") from None
        if unit:
            has_unit = True
            value *= _UNITS[unit]
        elif parts and has_unit:
            # "2 ty 300" -> the bare tail is in the next smaller unit (300 triệu)
            value *= 1_000_000
        total += value
        parts += 1
        pos = m.end()
    rest = folded[pos:].strip()
    if parts == 0 or (rest and rest not in ("dong", "d")):
        raise Invalid(f"Mình chưa hiểu số tiền này. {example}.")
    amount = round(total)
    if not has_unit and amount < 1_000_000:
        raise Invalid(f"Bạn ghi rõ đơn vị giúp mình (triệu hay tỷ?). {example}.")
    if amount <= 0:
        raise Invalid(f"Số tiền phải lớn hơn 0. {example}.")
    if amount > MAX_MONEY:
        raise Invalid(f"Số tiền này lớn quá, bạn kiểm tra lại giúp mình. {example}.")
    return amount


def _keep_separators(text: str) -> str:
    """Fold diacritics but keep "." and "," that sit between digits."""
    text = fold(text).lower()  # the project's folding, punctuation kept
    text = re.sub(r"(?<=\d)\s+(?=\d{3}\b)", "", text)  # "350 000 000"
    text = re.sub(r"(?<!\d)[.,]|[.,](?!\d)", " ", text)
    text = re.sub(r"[^a-z0-9.,+ ]+", " ", text)
    return " ".join(text.split())


def parse_count(text: str, *, what: str = "số người", maximum: int = 100_000) -> int:
    """ "12", "12 người", "khoảng 15" -> a whole number."""
    folded = fold_key(text)
    numbers = re.findall(r"\d+", folded)
    words = [w for w in re.sub(r"\d+", " ", folded).split() if w]
    allowed = {"nguoi", "lao", "dong", "khoang", "tam", "co", "gan", "hon", "cong", "nhan", "ld"}
    if re.search(r"-\s*\d", text) or len(numbers) != 1 or any(w not in allowed for w in words):
        raise Invalid(f"Bạn gửi {what} bằng một chữ số nhé. Ví dụ: 12")
    value = int(numbers[0])
    if value < 1:
        raise Invalid(f"{what[:1].upper()}{what[1:]} ít nhất là 1 (tính cả chủ cơ sở). Ví dụ: 12")
    if value > maximum:
        raise Invalid("Con số này lớn quá, bạn kiểm tra lại giúp mình. Ví dụ: 12")
    return value


_PHONE_WORDS = {"sdt", "so", "dt", "dien", "thoai", "cua", "toi", "em", "la", "zalo", "di", "dong"}


def parse_phone(text: str) -> str:
    """A Vietnamese mobile number in its national form, e.g. "0912345678" (10 digits)."""
    import phonenumbers

    example = "Ví dụ: 0912 345 678"
    raw = text.strip()
    digits = re.sub(r"[^\d+]", "", raw)
    if not re.search(r"\d", raw) or len(re.sub(r"\D", "", raw)) < 9:
        raise Invalid(f"Bạn gửi số điện thoại di động nhé. {example}.")
    words = set(re.sub(r"[\d+().\-]", " ", fold_key(raw)).split()) - _PHONE_WORDS
    if words:
        raise Invalid(f"Bạn chỉ gửi số điện thoại thôi nhé. {example}.")
    if digits.startswith("84") and len(digits) == 11:
        digits = "+" + digits
    try:
        number = phonenumbers.parse(digits, "VN")
    except phonenumbers.NumberParseException:
        raise Invalid(f"Số điện thoại chưa đúng. {example}.") from None
    if number.country_code != 84 or not phonenumbers.is_valid_number(number):
        raise Invalid(f"Số điện thoại chưa đúng (số di động Việt Nam có 10 số). {example}.")
    kind = phonenumbers.number_type(number)
    if kind not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise Invalid(
            f"Số này có vẻ là số máy bàn. Bạn gửi số di động để cán bộ liên hệ nhé. {example}."
        )
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return re.sub(r"\D", "", national)


def parse_reg_no(text: str, kind: str | None) -> str:
    """Tax code (10 digits, or 13 as "0123456789-001") or a household registration number.

    Enterprises and cooperatives have a 10/13-digit code. Business households' numbers
    vary by province and year (e.g. "27A8012345", or a 12-digit personal ID used as tax
    code since 2025): accept 6–20 letters/digits with at least 5 digits.
    """
    raw = re.sub(r"\s+", "", text.strip()).upper()
    compact = raw.replace(".", "")
    if re.fullmatch(r"\d{10}", compact):
        return compact
    if re.fullmatch(r"\d{10}-?\d{3}", compact):
        return f"{compact[:10]}-{compact[-3:]}"
    if kind in ("sme", "coop"):
        raise Invalid(
            "Mã số doanh nghiệp/hợp tác xã có 10 số, hoặc 13 số dạng 0123456789-001. "
            "Bạn kiểm tra lại, hoặc bấm «Bỏ qua» nếu chưa có."
        )
    if re.fullmatch(r"[0-9A-Z][0-9A-Z/\-]{4,19}", compact) and len(re.findall(r"\d", compact)) >= 5:
        return compact
    raise Invalid(
        "Số đăng ký/mã số thuế chưa đúng dạng: mã số thuế có 10 số (hoặc 0123456789-001); "
        "số đăng ký hộ kinh doanh gồm chữ và số, ví dụ 27A8012345. "
        "Chưa có thì bấm «Bỏ qua»."
    )


def clean_text(text: str, *, what: str, example: str, max_len: int = 300) -> str:
    """Free text such as a name: must hold letters; trimmed; length-checked."""
    value = " ".join(text.split())
    if not value or not re.search(r"[0-9A-Za-zÀ-ỹĐđ]", value):
        raise Invalid(f"Bạn gõ {what} bằng chữ nhé. Ví dụ: {example}")
    if len(value) > max_len:
        raise Invalid(
            f"{what[:1].upper()}{what[1:]} dài quá (tối đa {max_len:,} ký tự).".replace(",", ".")
            + f" Bạn viết gọn lại nhé. Ví dụ: {example}"
        )
    return value
