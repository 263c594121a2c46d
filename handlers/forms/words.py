"""What people type instead of tapping: quit, back, skip, keep, "all", yes — and questions.

Every comparison goes through ``knowledge.normalize.fold_key``, so «huỷ», «hủy», «HUY» and
«huy» are one word.
"""

from __future__ import annotations

from knowledge.normalize import fold_key

# Alone in a message, these leave the dialogue (like /cancel).
QUIT = frozenset(
    {
        "huy",
        "huy bo",
        "thoi",
        "thoi khong lam nua",
        "thoat",
        "thoat ra",
        "dung",
        "dung lai",
        "exit",
        "cancel",
        "quit",
    }
)
BACK = frozenset({"quay lai", "quay lai di", "tro lai", "lui", "lui lai", "back", "quay ve", "ql"})
# Asking to skip a question; honoured only at a step that may be skipped.
SKIP = frozenset({"bo qua", "bo qua cau nay", "bo qua buoc nay", "skip", "qua", "next"})
KEEP = frozenset({"giu nguyen", "giu", "giu nhu cu", "nhu cu", "khong doi", "giu nguyen nhu cu"})
ALL = frozenset({"tat ca", "chon tat ca", "ca", "het", "tat", "all", "moi loai", "toan bo"})
YES = frozenset(
    {"co", "dung", "dung roi", "phai", "ok", "oke", "u", "uh", "vang", "da", "chuan", "yes"}
)
CONFIRM = frozenset({"xac nhan", "dong y", "ok", "luu", "luu ho so", "xong", "oke", "dong y luu"})

# Question markers: a last word that makes a sentence a question, and phrases that ask.
_PARTICLES = frozenset({"khong", "ko", "kg", "hong", "hok", "chua", "nhi"})
_PHRASES = (
    "bao nhieu",
    "the nao",
    "nhu nao",
    "ntn",
    "ra sao",
    "tai sao",
    "vi sao",
    "lam sao",
    "la gi",
    "o dau",
    "khi nao",
    "bao gio",
    "mat phi",
    "co phi",
    "duoc khong",
    "co duoc",
    "phai khong",
    "co can",
    "can gi",
    "gi",
    "ai duoc",
    "ai la",
)
_PHRASE_MAX_WORDS = 12


def is_quit(text: str) -> bool:
    """«dừng» leaves; «đúng» (the same letters without marks) is a yes, not a quit."""
    key = fold_key(text)
    if key == "dung" and "đ" in text.lower():
        return False
    return key in QUIT


def is_back(text: str) -> bool:
    return fold_key(text) in BACK


def is_skip(text: str) -> bool:
    return fold_key(text) in SKIP


def is_keep(text: str) -> bool:
    return fold_key(text) in KEEP


def is_all(text: str) -> bool:
    return fold_key(text) in ALL


def looks_like_question(text: str) -> bool:
    """A question typed mid-dialogue: ends with "?", ends with a question particle
    («… không», «… chưa»), or (in a short message) uses a phrase that asks («bao nhiêu»,
    «thế nào», «mất phí»)."""
    stripped = text.strip()
    if not stripped:
        return False
    if stripped.endswith("?"):
        return True
    words = fold_key(stripped).split()
    if len(words) >= 2 and words[-1] in _PARTICLES:
        return True
    if len(words) <= _PHRASE_MAX_WORDS:
        joined = f" {' '.join(words)} "
        return any(f" {p} " in joined for p in _PHRASES)
    return False
