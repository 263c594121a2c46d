"""Provinces and communes of the administrative map in force since 1 July 2025.

Data: the ``vietnam-provinces`` package (34 provinces, 3,321 communes, wards and special
zones; no districts). Users type names without diacritics, with typos, with or without
"tỉnh"/"xã"/"phường", and often the *old* province name (63-province map). Old province
names are mapped to the province they merged into (Resolution 202/2025/QH15, the table
below: the package itself carries only the new map). Old district names are not in the
package; they are found only where a new commune kept the name (many did).

The unit type (tỉnh / thành phố trung ương; xã / phường / đặc khu) feeds the location test
of Decree 235/2025/NĐ-CP (see ``location_test``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from knowledge.normalize import fold_key

__all__ = [
    "Commune",
    "Province",
    "commune_by_code",
    "example_commune",
    "find_commune_anywhere",
    "fold",
    "in_sentence",
    "location_test",
    "match_commune",
    "match_province",
    "province_by_code",
]

CITY = "thành phố trung ương"
PROVINCE = "tỉnh"


@dataclass(frozen=True)
class Province:
    code: int
    name: str  # "Thành phố Hà Nội", "Quảng Nam" -> as in the package
    kind: str  # "tỉnh" | "thành phố trung ương"

    @property
    def full_name(self) -> str:
        return self.name if self.kind == CITY else f"Tỉnh {self.name}"


@dataclass(frozen=True)
class Commune:
    code: int
    name: str  # "Xã Hòa Vang", "Phường Hội An", "Đặc khu Phú Quốc"
    kind: str  # "xã" | "phường" | "đặc khu"
    province_code: int


@dataclass(frozen=True)
class Match:
    """A candidate for what the user typed; ``via`` names the old unit it was found by."""

    code: int
    name: str
    score: float
    via: str | None = None


def fold(text: str) -> str:
    """Lower case, no diacritics, đ→d, punctuation to spaces, single spaces
    (``knowledge.normalize.fold_key``, the project's one comparison key)."""
    return fold_key(text)


# Prefixes people type before a name (folded). Longest first.
_PROVINCE_PREFIXES = ("thanh pho truc thuoc trung uong", "thanh pho", "tinh", "tp", "t p")
_COMMUNE_PREFIXES = (
    "dac khu",
    "thi tran",
    "thi xa",
    "phuong",
    "xa",
    "tt",
    "p",
    "x",
)


def _strip_prefix(folded: str, prefixes: tuple[str, ...]) -> tuple[str, str | None]:
    for prefix in prefixes:
        if folded.startswith(prefix + " "):
            return folded[len(prefix) + 1 :], prefix
    return folded, None


# Old provinces (63-province map) merged into a new one: old name -> new province code.
# Resolution 202/2025/QH15 of 12 June 2025. Provinces that kept their name are not listed.
OLD_PROVINCES: dict[str, int] = {
    "Hà Giang": 8,
    "Yên Bái": 15,
    "Bắc Kạn": 19,
    "Vĩnh Phúc": 25,
    "Hòa Bình": 25,
    "Bắc Giang": 24,
    "Thái Bình": 33,
    "Hải Dương": 31,
    "Hà Nam": 37,
    "Nam Định": 37,
    "Quảng Bình": 44,
    "Quảng Nam": 48,
    "Kon Tum": 51,
    "Bình Định": 52,
    "Ninh Thuận": 56,
    "Phú Yên": 66,
    "Đắk Nông": 68,
    "Bình Thuận": 68,
    "Bình Phước": 75,
    "Bình Dương": 79,
    "Bà Rịa - Vũng Tàu": 79,
    "Long An": 80,
    "Tiền Giang": 82,
    "Bến Tre": 86,
    "Trà Vinh": 86,
    "Sóc Trăng": 92,
    "Hậu Giang": 92,
    "Bạc Liêu": 96,
    "Kiên Giang": 91,
}

# Everyday short names (folded) -> province code.
_ALIASES: dict[str, int] = {
    "hn": 1,
    "ha noi": 1,
    "hcm": 79,
    "tphcm": 79,
    "tp hcm": 79,
    "ho chi minh": 79,
    "sai gon": 79,
    "sg": 79,
    "hp": 31,
    "dn": 48,
    "ct": 92,
    "brvt": 79,
    "vung tau": 79,
    "ba ria vung tau": 79,
    "ba ria": 79,
    "dak lak": 66,
    "daklak": 66,
    "dac lac": 66,
    "dak nong": 68,
    "daknong": 68,
    "hue": 46,
    "thua thien hue": 46,
    "tt hue": 46,
}


@lru_cache(maxsize=1)
def _provinces() -> dict[int, Province]:
    from vietnam_provinces import Province as VP

    out: dict[int, Province] = {}
    for p in VP.iter_all():
        code = int(p.code.value if hasattr(p.code, "value") else p.code)
        out[code] = Province(code, p.name, p.division_type.value)
    return out


@lru_cache(maxsize=1)
def _communes() -> dict[int, Commune]:
    from vietnam_provinces import Ward

    out: dict[int, Commune] = {}
    for w in Ward.iter_all():
        code = int(w.code.value if hasattr(w.code, "value") else w.code)
        pcode = int(w.province_code.value if hasattr(w.province_code, "value") else w.province_code)
        out[code] = Commune(code, w.name, w.division_type.value, pcode)
    return out


@lru_cache(maxsize=1)
def _province_keys() -> list[tuple[str, int, str | None]]:
    """(folded key, new code, old name or None) for every way to name a province."""
    keys: list[tuple[str, int, str | None]] = []
    for p in _provinces().values():
        bare, _ = _strip_prefix(fold(p.name), _PROVINCE_PREFIXES)
        keys.append((bare, p.code, None))
    for old, code in OLD_PROVINCES.items():
        keys.append((fold(old), code, old))
    for alias, code in _ALIASES.items():
        keys.append((alias, code, None))
    return keys


@lru_cache(maxsize=64)
def _commune_keys(province_code: int) -> list[tuple[str, Commune]]:
    keys = []
    for c in _communes().values():
        if c.province_code == province_code:
            bare, _ = _strip_prefix(fold(c.name), _COMMUNE_PREFIXES)
            keys.append((bare, c))
    return keys


def province_by_code(code: int) -> Province | None:
    return _provinces().get(code)


def commune_by_code(code: int) -> Commune | None:
    return _communes().get(code)


def all_provinces() -> list[Province]:
    return list(_provinces().values())


_PROVINCE_CUTOFF = 85


def match_province(text: str, limit: int = 3) -> list[Match]:
    """Best candidates, best first; one candidate with score 100 is an exact match."""
    folded, _ = _strip_prefix(fold(text), _PROVINCE_PREFIXES)
    if not folded:
        return []
    squashed = folded.replace(" ", "")
    keys = _province_keys()
    for key, code, old in keys:
        if folded == key or squashed == key.replace(" ", ""):
            return [_province_match(code, 100.0, old)]
    best: dict[int, Match] = {}
    padded = f" {folded} "
    for key, code, old in keys:
        # A whole name inside a longer text ("xuong o quang ngai"), else a typo-tolerant
        # similarity of the whole text (short names: partial scores would match anything).
        contained = len(key) > 3 and f" {key} " in padded
        score = 95.0 if contained else fuzz.ratio(folded, key)
        # Short names differ by few letters ("phu vang" / "hau giang" score 71, "dien ban" /
        # "dien bien" 82): only a typo or two is tolerated, i.e. a high cut-off.
        if score >= _PROVINCE_CUTOFF and (code not in best or score > best[code].score):
            best[code] = _province_match(code, float(score), old)
    return sorted(best.values(), key=lambda m: -m.score)[:limit]


def _province_match(code: int, score: float, old: str | None) -> Match:
    province = _provinces()[code]
    return Match(code, province.name, score, via=old)


def match_commune(province_code: int, text: str, limit: int = 3) -> list[Match]:
    """Communes, wards and special zones of the province that look like ``text``."""
    folded, prefix = _strip_prefix(fold(text), _COMMUNE_PREFIXES)
    if not folded:
        return []
    wanted_kind = {"xa": "xã", "x": "xã", "phuong": "phường", "p": "phường"}.get(prefix or "")
    if prefix == "dac khu":
        wanted_kind = "đặc khu"
    keys = _commune_keys(province_code)
    exact = [c for key, c in keys if key == folded]
    if exact:
        if wanted_kind:
            exact.sort(key=lambda c: c.kind != wanted_kind)
        if len(exact) == 1:
            return [Match(exact[0].code, exact[0].name, 100.0)]
        return [Match(c.code, c.name, 99.0) for c in exact[:limit]]
    scored = process.extract(
        folded, [k for k, _ in keys], scorer=fuzz.WRatio, limit=limit * 3, score_cutoff=70
    )
    matches = []
    for _key, score, index in scored:
        commune = keys[index][1]
        bonus = 1.0 if wanted_kind and commune.kind == wanted_kind else 0.0
        # WRatio is generous with partial matches: prefer similar lengths on ties.
        closeness = fuzz.ratio(folded, keys[index][0]) / 100
        matches.append(Match(commune.code, commune.name, float(score) + bonus + closeness))
    matches.sort(key=lambda m: -m.score)
    return matches[:limit]


@lru_cache(maxsize=1)
def _all_commune_keys() -> tuple[list[str], list[Commune]]:
    keys, communes = [], []
    for c in _communes().values():
        bare, _ = _strip_prefix(fold(c.name), _COMMUNE_PREFIXES)
        keys.append(bare)
        communes.append(c)
    return keys, communes


def find_commune_anywhere(text: str, limit: int = 3) -> list[Commune]:
    """Communes of any province named like ``text`` (a commune typed at the province step).

    Exact names first (the unit type typed, if any, first among them), else near-exact
    spellings only (one typo): a wrong guess across 3,321 names would mislead more than help.
    """
    folded, prefix = _strip_prefix(fold(text), _COMMUNE_PREFIXES)
    if len(folded) < 3:
        return []
    wanted_kind = {"xa": "xã", "x": "xã", "phuong": "phường", "p": "phường"}.get(prefix or "")
    if prefix == "dac khu":
        wanted_kind = "đặc khu"
    keys, communes = _all_commune_keys()
    exact = [c for key, c in zip(keys, communes, strict=True) if key == folded]
    if exact:
        exact.sort(key=lambda c: (c.kind != wanted_kind, c.code))
        return exact[:limit]
    scored = process.extract(folded, keys, scorer=fuzz.ratio, limit=limit, score_cutoff=90)
    return [communes[index] for _key, _score, index in scored]


def example_commune(province_code: int) -> str:
    """A commune of the province, as an example in running text ("xã Nghĩa Hành")."""
    own = sorted(
        (c for c in _communes().values() if c.province_code == province_code),
        key=lambda c: (c.kind != "xã", c.code),
    )
    return in_sentence(own[0].name) if own else "xã Hòa Vang"


_UNIT_WORDS = ("Thành phố ", "Tỉnh ", "Xã ", "Phường ", "Đặc khu ", "Thị trấn ")


def in_sentence(name: str) -> str:
    """A unit's name inside a sentence: the unit word in lower case ("thành phố Huế")."""
    for word in _UNIT_WORDS:
        if name.startswith(word):
            return word.lower() + name[len(word) :]
    return name


@dataclass(frozen=True)
class LocationCheck:
    ok: bool  # within the test as read; False means "staff must verify", not "refused"
    note: str


def location_test(province_code: int, commune_code: int) -> LocationCheck:
    """Decree 235/2025/NĐ-CP location test, read from the unit types.

    Eligible: xã, phường, đặc khu of provinces; xã, đặc khu of centrally-run cities (and
    recognised craft villages). Wards of the six centrally-run cities are not listed in the
    translation we have: the reference says to verify, so these are flagged for staff.
    """
    province = _provinces()[province_code]
    commune = _communes()[commune_code]
    if province.kind == PROVINCE or commune.kind in ("xã", "đặc khu"):
        return LocationCheck(
            True,
            f"{commune.name} thuộc {in_sentence(province.full_name)}: đúng địa bàn theo "
            "Nghị định 235/2025/NĐ-CP.",
        )
    return LocationCheck(
        False,
        f"{commune.name} là phường của thành phố trực thuộc trung ương. Nghị định "
        "235/2025/NĐ-CP nêu xã, đặc khu của thành phố trực thuộc trung ương (và làng nghề "
        "được công nhận); chưa nêu phường — cán bộ Trung tâm sẽ kiểm tra giúp bạn.",
    )
