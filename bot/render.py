"""One renderer: channel-neutral replies → the messages a channel can show.

- Text longer than the channel allows is split at paragraphs, then lines, then words.
- Where a channel has no buttons, choices become numbered lines and a hint to type the
  number; numbering runs on across the replies of one answer, as the engine resolves a
  typed number against all the buttons of the last answer.
- A phone request stays a plain question where there is no contact button; a document is
  kept only where the channel takes files or links to them (otherwise one line says where
  to get it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from bot.channels import Capabilities
from bot.types import Button, Reply

NO_FILES = "(Kênh này không gửi được tệp «{name}»: bạn nhắn cán bộ để nhận tệp.)"


def choose_hint(count: int) -> str:
    if count == 1:
        return "Gõ 1 để chọn."
    if count <= 3:
        numbers = ", ".join(str(n) for n in range(1, count))
        return f"Gõ {numbers} hoặc {count} để chọn."
    return f"Gõ một số từ 1 đến {count} để chọn."


def numbered(buttons: Sequence[Button], start: int) -> str:
    return "\n".join(f"{n}. {b.label}" for n, b in enumerate(buttons, start))


def render(replies: Sequence[Reply], caps: Capabilities) -> list[Reply]:
    """What to send, one ``Reply`` per platform message, each within the channel's limits."""
    out: list[Reply] = []
    number = 1
    total = sum(len(r.all_buttons()) for r in replies)
    for reply in replies:
        buttons = reply.all_buttons()
        text = reply.text
        rows = reply.buttons
        if buttons and not caps.buttons:
            last = number + len(buttons) - 1
            lines = numbered(buttons, number)
            hint = choose_hint(total) if last == total else ""
            text = "\n\n".join(p for p in (text.strip(), lines, hint) if p)
            number = last + 1
            rows = []
        elif caps.buttons and caps.max_buttons and len(buttons) > caps.max_buttons:
            kept = buttons[: caps.max_buttons]
            rows = [[b] for b in kept]
        document = reply.document
        if document is not None and not (caps.documents or caps.document_links):
            note = NO_FILES.format(name=document.filename)
            text = "\n\n".join(p for p in (text.strip(), note) if p)
            document = None
        request_phone = reply.request_phone and caps.request_phone
        parts = split_text(text, caps.max_text, caps.measure) if text.strip() else [""]
        for i, part in enumerate(parts):
            last_part = i == len(parts) - 1
            out.append(
                replace(
                    reply,
                    text=part,
                    buttons=rows if last_part else [],
                    document=document if last_part else None,
                    request_phone=request_phone if last_part else False,
                )
            )
    return [r for r in out if r.text.strip() or r.buttons or r.document is not None]


def _cut(text: str, limit: int, measure: Callable[[str], int]) -> int:
    """The longest prefix (in characters) of ``text`` that fits ``limit`` units."""
    if measure(text) <= limit:
        return len(text)
    lo, hi = 0, min(len(text), limit)
    while lo < hi:  # binary search: a prefix is never longer in characters than in units
        mid = (lo + hi + 1) // 2
        if measure(text[:mid]) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return lo


def split_text(text: str, limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """Cut ``text`` into parts of at most ``limit``: at paragraphs, then lines, then words,
    then anywhere. Parts are never empty; whitespace at the cuts is dropped."""
    parts: list[str] = []
    rest = text.strip("\n")
    while measure(rest) > limit:
        window = rest[: _cut(rest, limit, measure)]
        at = -1
        for sep in ("\n\n", "\n", " "):
            at = window.rfind(sep)
            if at > 0:
                break
        if at <= 0:
            at = len(window)
        head, rest = rest[:at].rstrip(), rest[at:].lstrip("\n ")
        if head.strip():
            parts.append(head)
    if rest.strip():
        parts.append(rest)
    return parts or [text]
