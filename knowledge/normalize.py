"""Vietnamese text normalisation for matching what users type on phones.

Users write with or without diacritics, with teencode (``k``, ``dc``, ``bn``), domain
abbreviations (``hs``, ``cnnt``, ``htx``), leftover telex keys (``hoox trowj``), emoji and
stray punctuation. ``normalize`` maps all of that onto one plain-ASCII, lower-case,
space-separated form so that "Hỗ trợ máy móc?", "ho tro may moc" and "hỗ trợ mmtb" compare
equal token by token.

Everything is table driven and precompiled at import: the matcher normalises every question.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["ABBREVIATIONS", "fold", "normalize", "tokens"]

# --------------------------------------------------------------------------------------
# Diacritic folding


def _build_fold_table() -> dict[int, str | None]:
    """A str.translate table: every accented Latin letter -> its ASCII base letter.

    Built from Unicode decomposition, so precomposed letters in any tone placement
    ("hoà" / "hòa"), decomposed input (base letter + combining marks) and upper case all
    end up as the same ASCII letters. Combining marks are deleted.
    """
    table: dict[int, str | None] = {}
    ranges = [(0x00C0, 0x0250), (0x1E00, 0x1F00)]
    for start, end in ranges:
        for code in range(start, end):
            char = chr(code)
            base = "".join(
                c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c)
            )
            if base and base != char and base.isascii():
                table[code] = base
    for code in range(0x0300, 0x0370):  # combining diacritical marks
        table[code] = None
    # Letters that have no decomposition.
    table.update(
        {
            ord("đ"): "d",
            ord("Đ"): "D",
            ord("ð"): "d",  # Icelandic eth, produced by some old Vietnamese fonts for đ
            ord("Ð"): "D",
            ord("Ɖ"): "D",
            ord("ɖ"): "d",
        }
    )
    return table


_FOLD_TABLE = _build_fold_table()


def fold(text: str) -> str:
    """Remove Vietnamese diacritics and map đ to d; keep case, spacing and punctuation."""
    return text.translate(_FOLD_TABLE)


_NOT_WORD = re.compile(r"[^a-z0-9]+")


def fold_key(text: str) -> str:
    """The comparison key of a short text (a button label, a place, a header): folded,
    lower case, every run of punctuation or spaces one space. The project's one way of
    comparing what a user typed with a known name."""
    text = fold(unicodedata.normalize("NFKC", text)).lower()
    return " ".join(_NOT_WORD.sub(" ", text).split())


# --------------------------------------------------------------------------------------
# Abbreviations and teencode, applied on single tokens after folding

# Token -> replacement (one or more words). Keys are folded, lower-case tokens.
ABBREVIATIONS: dict[str, str] = {
    # negation / question words
    "k": "khong",
    "ko": "khong",
    "kg": "khong",
    "kh": "khong",
    "khg": "khong",
    "khog": "khong",
    "hok": "khong",
    "hem": "khong",
    "kq": "ket qua",
    "j": "gi",
    "ji": "gi",
    "z": "vay",
    "zay": "vay",
    "v": "vay",
    "bn": "bao nhieu",
    "bnh": "bao nhieu",
    "bnhieu": "bao nhieu",
    "ntn": "nhu the nao",
    "ntao": "nhu the nao",
    "tn": "the nao",
    "bg": "bao gio",
    "bh": "bao gio",
    "bgio": "bao gio",
    "ik": "di",
    # verbs / common words
    "dc": "duoc",
    "dk": "duoc",
    "dx": "duoc",
    "dduoc": "duoc",
    "r": "roi",
    "vs": "voi",
    "ng": "nguoi",
    "ngta": "nguoi ta",
    "mk": "minh",
    "mik": "minh",
    "mn": "moi nguoi",
    "mng": "moi nguoi",
    "e": "em",
    "a": "anh",
    "c": "chi",
    "t": "toi",
    "b": "ban",
    "bt": "biet",
    "bik": "biet",
    "bjo": "bao gio",
    "cx": "cung",
    "cg": "cung",
    "nx": "nua",
    "oke": "ok",
    "okie": "ok",
    "thx": "cam on",
    "tks": "cam on",
    "cmon": "cam on",
    "wa": "qua",
    "qa": "qua",
    "trc": "truoc",
    "ts": "tu",
    "lm": "lam",
    "ntin": "nhan tin",
    "vde": "van de",
    "vd": "vi du",
    "tg": "thoi gian",
    "tgian": "thoi gian",
    "ms": "moi",
    "nc": "noi chuyen",
    "nhiu": "nhieu",
    "bnhiu": "bao nhieu",
    "khum": "khong",
    "mun": "muon",
    "bit": "biet",
    "dag": "dang",
    "lsao": "lam sao",
    "ntnao": "nhu the nao",
    "tgia": "tham gia",
    "ctrinh": "chuong trinh",
    "dtao": "dao tao",
    "kphi": "kinh phi",
    "qly": "quan ly",
    "ktra": "kiem tra",
    "ttin": "thong tin",
    "spham": "san pham",
    "dnghiep": "doanh nghiep",
    "nthon": "nong thon",
    # money and units
    "tr": "trieu",
    "trd": "trieu dong",
    "ty": "ty",
    "ti": "ty",
    "tyr": "ty",
    "vnd": "dong",
    "d": "dong",
    # domain abbreviations (khuyencong.md section 11)
    "kc": "khuyen cong",
    "kcong": "khuyen cong",
    "kcqg": "khuyen cong quoc gia",
    "kcdp": "khuyen cong dia phuong",
    "ttkc": "trung tam khuyen cong",
    "ttkhuyencong": "trung tam khuyen cong",
    "khuyencong": "khuyen cong",
    "cnnt": "cong nghiep nong thon",
    "cn": "cong nghiep",
    "tccn": "tieu thu cong nghiep",
    "ttcn": "tieu thu cong nghiep",
    "tcmn": "thu cong my nghe",
    "hs": "ho so",
    "hso": "ho so",
    "dkkd": "dang ky kinh doanh",
    "gcndkkd": "giay chung nhan dang ky kinh doanh",
    "gpkd": "giay phep kinh doanh",
    "dky": "dang ky",
    "dki": "dang ky",
    "dangky": "dang ky",
    "kd": "kinh doanh",
    "htx": "hop tac xa",
    "thtx": "to hop tac",
    "tht": "to hop tac",
    "hkd": "ho kinh doanh",
    "dn": "doanh nghiep",
    "dnnvv": "doanh nghiep nho va vua",
    "dnn": "doanh nghiep nho",
    "dnvvn": "doanh nghiep nho va vua",
    "cty": "cong ty",
    "sct": "so cong thuong",
    "bct": "bo cong thuong",
    "ubnd": "uy ban nhan dan",
    "hdnd": "hoi dong nhan dan",
    "sdt": "so dien thoai",
    "sdth": "so dien thoai",
    "dt": "dien thoai",
    "dthoai": "dien thoai",
    "hotline": "so dien thoai",
    "ad": "can bo",
    "admin": "can bo",
    "cb": "can bo",
    "sp": "san pham",
    "cs": "co so",
    "csx": "co so san xuat",
    "cssx": "co so san xuat",
    "ld": "lao dong",
    "mmtb": "may moc thiet bi",
    "mhtd": "mo hinh trinh dien",
    "sxsh": "san xuat sach hon",
    "sx": "san xuat",
    "tknl": "tiet kiem nang luong",
    "ccn": "cum cong nghiep",
    "kcn": "khu cong nghiep",
    "ctv": "cong tac vien",
    "hctl": "hoi cho trien lam",
    "hc": "hoi cho",
    "xttm": "xuc tien thuong mai",
    "tmdt": "thuong mai dien tu",
    "cds": "chuyen doi so",
    "nd": "nghi dinh",
    "qd": "quyet dinh",
    "ttlt": "thong tu lien tich",
    "ttg": "thu tuong",
    "ntm": "nong thon moi",
    "dbkk": "dac biet kho khan",
    "nn": "nha nuoc",
    "ns": "ngan sach",  # also "nói"; ngân sách is the useful reading here
    "nsnn": "ngan sach nha nuoc",
    "onl": "online",
    "onlai": "online",
    "fb": "facebook",
    "web": "website",
}

# Context rules: (token, set of following tokens) -> replacement.
_FOLLOWED_BY: dict[str, tuple[frozenset[str], str]] = {
    # đk kd / đk kinh doanh -> đăng ký; otherwise "dk" is teencode for "được"
    "dk": (frozenset({"kd", "kinh", "hs", "kcqg", "online"}), "dang ky"),
    # "dt nghe" is đào tạo nghề; otherwise đt is điện thoại
    "dt": (frozenset({"nghe", "lao", "ld", "tho", "cho", "quan", "ky"}), "dao tao"),
}
# Context rules: (token, set of preceding tokens) -> replacement.
_PRECEDED_BY: dict[str, tuple[frozenset[str], str]] = {
    # "nhà nc" is nhà nước; otherwise "nc" is teencode for nói chuyện
    "nc": (frozenset({"nha"}), "nuoc"),
}
# "tt": thông tư before a number or a document word, trung tâm otherwise.
_TT_THONG_TU_NEXT = frozenset({"lien", "so", "bct", "btc", "huong"})

# "ad"/"admin" addressing the bot is dropped; elsewhere ("sdt ad") it means cán bộ.
_VOCATIVES = frozenset({"ad", "admin"})
_AFTER_VOCATIVE = frozenset({"oi", "a", "ah", "cho", "e", "em", "minh", "toi", "hoi"})
_QUESTION_END = frozenset(
    {"k", "ko", "kh", "khg", "khong", "hok", "j", "gi", "a", "nhe", "nha", "vay", "v", "z"}
)

# Tokens glued to numbers: 5tr, 500k, 2ty, 30%, 10trieu, nd45.
_NUMBER_UNIT_RE = re.compile(r"^(\d+(?:[.,]\d+)?)(tr|trieu|k|ty|ti|d|dong|vnd|nghin|ngan)$")
_UNIT_WORDS = {
    "tr": "trieu",
    "trieu": "trieu",
    "k": "nghin",
    "nghin": "nghin",
    "ngan": "nghin",
    "ty": "ty",
    "ti": "ty",
    "d": "dong",
    "dong": "dong",
    "vnd": "dong",
}
_PREFIX_NUMBER_RE = re.compile(r"^(nd|qd|tt|ttlt)(\d+)$")

# --------------------------------------------------------------------------------------
# Telex leftovers: "hoox trowj" -> "ho tro". Only applied when the cleaned token looks like
# a Vietnamese syllable, so English words ("online", "facebook") are left alone.

_SYLLABLE_RE = re.compile(
    r"^(ngh|ng|nh|ch|gh|gi|kh|ph|th|tr|qu|[bcdghklmnpqrstvx])?"
    r"(uye|uya|oai|oay|oeo|uay|uoi|uou|ieu|yeu|uya|[aeiouy]{1,2})"
    r"(ch|ng|nh|[cmnpt])?$"
)
_TELEX_IN_WORD_RE = re.compile(r"aa|aw|ee|oo|ow|uw|dd")
_TELEX_IN_WORD = {"aa": "a", "aw": "a", "ee": "e", "oo": "o", "ow": "o", "uw": "u", "dd": "d"}
_TONE_KEYS = frozenset("sfrxj")
_VOWELS = frozenset("aeiouy")


def _untelex(token: str) -> str:
    original = token
    changed = False
    if _TELEX_IN_WORD_RE.search(token):
        token = _TELEX_IN_WORD_RE.sub(lambda m: _TELEX_IN_WORD[m.group(0)], token)
        changed = True
    if len(token) >= 3 and token[-1] in _TONE_KEYS and not _SYLLABLE_RE.match(token):
        stripped = token[:-1]
        if stripped[-1] in _VOWELS or stripped.endswith(
            ("ng", "nh", "ch", "c", "m", "n", "p", "t")
        ):
            token = stripped
            changed = True
    if changed and _SYLLABLE_RE.match(token):
        return token
    return original


# --------------------------------------------------------------------------------------
# The pipeline

# After folding and lower-casing: anything that is not a letter or digit separates tokens.
_SEPARATOR_RE = re.compile(r"[^a-z0-9]+")
_PERCENT_RE = re.compile(r"%")
_REPEAT_RE = re.compile(r"([a-z])\1{2,}")  # "khongggg" -> "khong"
_SYLLABLE_CACHE_SIZE = 1 << 16


@lru_cache(maxsize=_SYLLABLE_CACHE_SIZE)
def _token_simple(token: str) -> str:
    """Context-free rewriting of one folded token (cached: tokens repeat a lot)."""
    if token in ABBREVIATIONS:
        return ABBREVIATIONS[token]
    if token[0].isdigit():
        m = _NUMBER_UNIT_RE.match(token)
        if m:
            return f"{m.group(1)} {_UNIT_WORDS[m.group(2)]}"
        return token
    m = _PREFIX_NUMBER_RE.match(token)
    if m:
        head = {
            "nd": "nghi dinh",
            "qd": "quyet dinh",
            "tt": "thong tu",
            "ttlt": "thong tu lien tich",
        }
        return f"{head[m.group(1)]} {m.group(2)}"
    if len(token) > 2 and _REPEAT_RE.search(token):
        squeezed = _REPEAT_RE.sub(r"\1", token)
        return ABBREVIATIONS.get(squeezed, squeezed)
    if len(token) >= 3:
        fixed = _untelex(token)
        if fixed != token:
            return ABBREVIATIONS.get(fixed, fixed)
    return token


# "đk" typed with its đ is đăng ký or điều kiện, never the "dk" of "được" (teencode for
# được is typed without a đ): marked before folding, read with its neighbours in ``tokens``.
_DK_RE = re.compile(r"(?<![^\W\d_])[đĐ][kK](?![^\W\d_])")
_DK = "dkdiacritic"
# After these, or before these, "đk" is điều kiện ("đủ đk", "đk gì", "những đk nào").
_DIEU_KIEN_BEFORE = frozenset({"du", "co", "nhung", "cac", "dap", "ung", "voi", "ve", "theo"})
_DIEU_KIEN_AFTER = frozenset({"gi", "j", "de", "nao", "la", "ra", "sao", "cua", "duoc", "dc"})


def _dang_ky_or_dieu_kien(prev: str, nxt: str) -> str:
    if prev in _DIEU_KIEN_BEFORE or nxt in _DIEU_KIEN_AFTER:
        return "dieu kien"
    return "dang ky"


def _prepare(text: str) -> list[str]:
    """Fold, lower-case and split into raw tokens."""
    if not text.isascii():
        text = _DK_RE.sub(f" {_DK} ", text)
        # NFKC: full-width letters, ligatures; folding then handles any tone placement.
        text = fold(unicodedata.normalize("NFKC", text))
    text = text.lower()
    text = _PERCENT_RE.sub(" phan tram ", text)
    return _SEPARATOR_RE.sub(" ", text).split()


def normalize(text: str) -> str:
    """The canonical matching form: folded ASCII, lower case, abbreviations expanded."""
    return " ".join(tokens(text))


def tokens(text: str) -> list[str]:
    """``normalize(text)`` as a list of syllables."""
    if not text:
        return []
    raw = _prepare(text)
    out: list[str] = []
    n = len(raw)
    for i, token in enumerate(raw):
        nxt = raw[i + 1] if i + 1 < n else ""
        if token == "tt":
            if nxt[:1].isdigit() or nxt in _TT_THONG_TU_NEXT:
                out.extend(("thong", "tu"))
            else:
                out.extend(("trung", "tam"))
            continue
        if token == _DK:
            prev = raw[i - 1] if i else ""
            out.extend(_dang_ky_or_dieu_kien(prev, nxt).split())
            continue
        after = _PRECEDED_BY.get(token)
        if after is not None and i and raw[i - 1] in after[0]:
            out.extend(after[1].split())
            continue
        rule = _FOLLOWED_BY.get(token)
        if rule is not None and nxt in rule[0]:
            out.extend(rule[1].split())
            continue
        if token in _VOCATIVES and (
            i == 0 or nxt in _AFTER_VOCATIVE or (i == n - 1 and raw[i - 1] in _QUESTION_END)
        ):
            continue  # "ad ơi", "ad cho hỏi", "... không ad": addressing, not a topic
        if token == "k" and i and raw[i - 1][:1].isdigit():
            out.append("nghin")  # "500 k": nghìn
            continue
        out.extend(_token_simple(token).split())
    return out
