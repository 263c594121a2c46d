"""Vietnamese phone numbers as typed in a chat: one way to read them for every feature."""

from __future__ import annotations

import re


def vn_phone(text: str) -> str | None:
    """A Vietnamese number in its national form ("0912345678"), else None.

    Accepts spaces, dots, dashes, brackets and the +84 / 84 prefixes; anything else in the
    text (words, letters) means it is not just a phone number."""
    import phonenumbers

    digits = re.sub(r"[^\d+]", "", text)
    if len(re.sub(r"\D", "", digits)) < 9 or re.search(r"[^\d\s+().\-]", text.strip()):
        return None
    if digits.startswith("84") and len(digits) == 11:
        digits = "+" + digits
    try:
        number = phonenumbers.parse(digits, "VN")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 84 or not phonenumbers.is_valid_number(number):
        return None
    return "0" + str(number.national_number)
