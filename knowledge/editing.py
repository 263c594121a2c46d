"""Editing FAQ entries one at a time (the staff pages), and spreadsheet import/export
(the pages and ``kcbot kb import/export``).

One source of truth: the YAML files of the knowledge folder (``KCBOT_KB_PATH``), which the
bot reads and reloads when they change (``knowledge.kb``). An edit is checked with the
same validation as ``kcbot kb check`` (``content.entry_problems``), written to its topic's
file only, under a file lock so that two staff saving at once cannot lose each other's
change; an entry changed by someone else since the form was opened is not overwritten.
Problems come back per form field, in Vietnamese.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from knowledge.content import (
    MAX_ID,
    PLACEHOLDERS,
    ContentError,
    Entry,
    dump_yaml,
    entry_problems,
    export_entries,
    import_entries,
    load_entries,
    write_entries,
    write_topic,
)
from knowledge.normalize import fold_key

FORM_FIELDS = ("id", "topic", "title", "questions", "answer", "source", "reviewed", "related")
STALE = (
    "Mục này vừa được người khác sửa trong lúc bạn sửa. Nội dung bạn gõ vẫn còn bên dưới: "
    "mở mục trong thẻ mới để xem bản mới, rồi lưu lại."
)
ALLOWED_PLACEHOLDERS = ", ".join("{" + p + "}" for p in PLACEHOLDERS)


class EditingUnavailable(Exception):
    """The knowledge folder cannot be edited as it is (a message for staff)."""


@dataclass
class EditResult:
    entry: Entry | None = None
    created: bool = False
    # form field → Vietnamese problems; "" for the entry as a whole
    problems: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.entry is not None and not self.problems


# --- messages ---------------------------------------------------------------------------

_TRANSLATIONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(missing|empty)$"), "Chưa điền."),
    (re.compile(r"^must be text, got .*$"), "Phải là chữ."),
    (re.compile(r"^longer than (\d+) characters \((\d+)\)$"), r"Dài quá \1 ký tự (đang có \2)."),
    (
        re.compile(r"^must be lowercase letters, digits and single hyphens$"),
        "Chỉ dùng chữ thường không dấu, số và dấu gạch ngang, ví dụ: ho-tro-may-moc.",
    ),
    (re.compile(r'^unknown topic "(.*)"$'), r"Không có chủ đề «\1»."),
    (
        re.compile(r"^unknown placeholder \{(.*)\} \(allowed: .*\)$"),
        r"Không có ô điền {\1}; chỉ dùng " + ALLOWED_PLACEHOLDERS.replace("\\", "\\\\") + ".",
    ),
    (
        re.compile(r"^unmatched brace; literal \{ or \} is not allowed$"),
        "Dấu { } chỉ dùng cho ô điền như {centre_phone}; bỏ dấu { hoặc } lẻ.",
    ),
    (re.compile(r"^question (\d+) is empty or not text$"), r"Câu hỏi thứ \1 trống."),
    (re.compile(r'^repeated question "(.*)"$'), r"Câu «\1» bị lặp."),
    (re.compile(r"^not a date YYYY-MM-DD: .*$"), "Ngày chưa đúng; ví dụ: 2026-12-01."),
    (re.compile(r"^must be a list of entry ids$"), "Chỉ gõ mã các mục, cách nhau dấu phẩy."),
    (re.compile(r"^duplicate id, already used at .*$"), "Mã này đã có mục khác dùng."),
    (re.compile(r"^refers to itself$"), "Không liên kết một mục tới chính nó."),
    (re.compile(r'^unknown entry id "(.*)"$'), r"Không có mục mã «\1»."),
    (re.compile(r'^question "(.*)" is also in entry "(.*)"$'), r"Câu «\1» đã có ở mục «\2»."),
]


def vietnamese(field_name: str, message: str) -> str:
    """A content problem (as ``kcbot kb check`` words it) in the words of the form."""
    if field_name == "questions" and message in ("missing", "empty"):
        return "Gõ ít nhất một câu hỏi, mỗi câu một dòng."
    for pattern, text in _TRANSLATIONS:
        if pattern.match(message):
            return pattern.sub(text, message)
    return message


_SHEET_PLACE = re.compile(
    r'^[^:]*: row (\d+)(?: \(entry "([^"]*)"\))?(?: column "([^"]*)")?: (.*)$', re.S
)
_SHEET_WHOLE = [
    (re.compile(r'^[^:]*: row 1: missing column "(.*?)".*$'), r"Thiếu cột «\1» ở dòng tiêu đề."),
    (re.compile(r"^[^:]*: empty file$"), "Tệp trống."),
    (re.compile(r"^[^:]*: no entries$"), "Tệp không có mục nào."),
    (re.compile(r"^[^:]*: cannot read the spreadsheet.*$"), "Không đọc được tệp bảng tính."),
    (re.compile(r"^[^:]*: not UTF-8 text$"), "Tệp .csv phải lưu kiểu UTF-8."),
]


def sheet_problem(problem: str) -> str:
    """A spreadsheet import problem (``kcbot kb import``'s wording) for the page:
    «Dòng 5 (mục x), cột answer: Dài quá 900 ký tự (đang có 950).»"""
    for pattern, text in _SHEET_WHOLE:
        if pattern.match(problem):
            return pattern.sub(text, problem)
    found = _SHEET_PLACE.match(problem)
    if found is None:
        return problem
    row, entry_id, column, message = found.groups()
    place = f"Dòng {row}" + (f" (mục {entry_id})" if entry_id else "")
    if column:
        place += f", cột {column}"
    return f"{place}: {vietnamese(column or '', message)}"


# --- form ↔ entry -----------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r", "\n").split("\n") if line.strip()]


def form_to_raw(form: Mapping[str, str], today: date) -> dict[str, Any]:
    """What a form posts, as the fields of an entry (questions one per line, related ids
    separated by commas or spaces, the review date today when left empty)."""
    raw: dict[str, Any] = {
        key: (form.get(key) or "").strip()
        for key in ("id", "topic", "title", "answer", "source", "reviewed")
    }
    raw["answer"] = (form.get("answer") or "").replace("\r\n", "\n").strip()
    raw["questions"] = _lines(form.get("questions") or "")
    raw["related"] = [r for r in re.split(r"[;,\s]+", form.get("related") or "") if r]
    if not raw["reviewed"]:
        raw["reviewed"] = today.isoformat()
    if not raw["related"]:
        del raw["related"]
    return raw


def entry_to_form(entry: Entry) -> dict[str, str]:
    return {
        "id": entry.id,
        "topic": entry.topic,
        "title": entry.title,
        "questions": "\n".join(entry.questions),
        "answer": entry.answer,
        "source": entry.source,
        "reviewed": entry.reviewed.isoformat(),
        "related": ", ".join(entry.related),
    }


def version(entry: Entry) -> str:
    """A short fingerprint of an entry as saved: the form carries it back."""
    return hashlib.sha256(dump_yaml([entry]).encode()).hexdigest()[:16]


def suggest_id(title: str, taken: set[str]) -> str:
    """An id from the title (no diacritics, hyphens), unique among ``taken``."""
    base = re.sub(r"[^a-z0-9]+", "-", fold_key(title)).strip("-")[: MAX_ID - 4] or "muc-moi"
    base = base.strip("-")
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


# --- reading ----------------------------------------------------------------------------


def _folder(data_dir: Path) -> Path:
    data_dir = Path(data_dir)
    if data_dir.exists() and not data_dir.is_dir():
        raise EditingUnavailable(
            f"KCBOT_KB_PATH trỏ tới một tệp ({data_dir.name}); cần một thư mục để ghi nội dung."
        )
    return data_dir


def entries(data_dir: Path) -> list[Entry]:
    """The entries as the bot reads them; EditingUnavailable if the files are broken."""
    try:
        return load_entries(_folder(data_dir))
    except ContentError as exc:
        raise EditingUnavailable(
            "Nội dung hỏi đáp đang có lỗi, cần sửa trước (kcbot kb check): "
            + "; ".join(exc.problems[:3])
        ) from exc


def search(items: Sequence[Entry], query: str = "", topic: str = "") -> list[Entry]:
    """Entries of a topic whose id, title, questions or answer hold every word typed
    (compared without diacritics or case; a word of three letters or more also finds the
    words it begins: «may» finds «máy», «mayman» nothing)."""
    words = fold_key(query.replace("-", " ")).split()
    found: list[tuple[int, Entry]] = []
    for entry in items:
        if topic and entry.topic != topic:
            continue
        if not words:
            found.append((0, entry))
            continue
        # Best first: the words in the title, then in a question, then anywhere.
        title = set(fold_key(f"{entry.id.replace('-', ' ')} {entry.title}").split())
        questions = title | set(fold_key(" ".join(entry.questions)).split())
        anywhere = questions | set(fold_key(entry.answer).split())
        for rank, tokens in enumerate((title, questions, anywhere)):
            if all(_has(tokens, w) for w in words):
                found.append((rank, entry))
                break
    return [entry for _, entry in sorted(found, key=lambda item: item[0])]


def _has(tokens: set[str], word: str) -> bool:
    return word in tokens or (len(word) >= 3 and any(t.startswith(word) for t in tokens))


# --- saving -----------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    """One writer at a time across processes (an advisory lock on the folder)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: one process is all we guard
        yield
        return
    import os

    fd = os.open(data_dir, os.O_RDONLY)  # the folder itself: no lock file among the data
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _one_file_per_topic(data_dir: Path) -> bool:
    """Every YAML file is ``<topic>.yaml`` holding that topic only: then an edit rewrites
    only its topic's file, and comments in the others stay as staff wrote them."""
    import yaml

    for file in sorted([*data_dir.glob("*.yaml"), *data_dir.glob("*.yml")]):
        try:
            items = yaml.safe_load(file.read_text(encoding="utf-8")) or []
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return False
        topics = {item.get("topic") for item in items if isinstance(item, dict)}
        if file.suffix != ".yaml" or not isinstance(items, list) or topics - {file.stem}:
            return False
    return True


def save_entry(
    data_dir: Path,
    form: Mapping[str, str],
    *,
    today: date,
    original_id: str | None = None,
    expected_version: str | None = None,
) -> EditResult:
    """Add an entry (``original_id`` None) or change one; the id of an existing entry
    stays (answers' statistics and links refer to it). Nothing is written when there is
    any problem."""
    folder = _folder(data_dir)
    with _locked(folder):
        current = entries(folder) if any(folder.glob("*.y*ml")) else []
        by_id = {e.id: e for e in current}
        raw = form_to_raw(form, today)
        old: Entry | None = None
        if original_id is not None:
            old = by_id.get(original_id)
            if old is None:
                return EditResult(problems={"": [f"Không còn mục «{original_id}»."]})
            if expected_version and version(old) != expected_version:
                return EditResult(problems={"": [STALE]})
            raw["id"] = old.id
        elif not raw["id"]:
            raw["id"] = suggest_id(raw.get("title") or "", set(by_id))
        others = [e for e in current if old is None or e.id != old.id]
        result = EditResult()
        for field_name, message in entry_problems(raw, others):
            key = field_name if field_name in FORM_FIELDS else ""
            result.problems.setdefault(key, []).append(vietnamese(field_name, message))
        if result.problems:
            return result
        new = _entry_of(raw)
        updated = [new if e.id == new.id else e for e in current] if old else [*current, new]
        if _one_file_per_topic(folder):
            for topic in {new.topic, old.topic if old else new.topic}:
                write_topic(topic, [e for e in updated if e.topic == topic], folder)
        else:
            write_entries(updated, folder)
        return EditResult(entry=new, created=old is None)


def _entry_of(raw: Mapping[str, Any]) -> Entry:
    return Entry(
        id=raw["id"],
        topic=raw["topic"],
        title=" ".join(raw["title"].split()),
        questions=tuple(" ".join(q.split()) for q in raw["questions"]),
        answer="\n".join(line.rstrip() for line in raw["answer"].split("\n")).strip(),
        source=raw["source"].strip(),
        reviewed=date.fromisoformat(raw["reviewed"]),
        related=tuple(raw.get("related") or ()),
    )


# --- spreadsheets ------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportReport:
    entries: int
    topics: int
    added: int
    changed: int
    removed: int
    per_topic: dict[str, int]


def summary(items: Sequence[Entry]) -> str:
    return f"{len(items)} mục, {len({e.topic for e in items})} chủ đề"


def export_spreadsheet(data_dir: Path, path: Path, file_mode: int = 0o600) -> list[Entry]:
    """Write every entry to ``path`` (.xlsx or .csv): owner-only, no cell acting as a formula.
    Raises EditingUnavailable when the content is broken, OSError when the file can't be
    written."""
    from db.files import neutralise_spreadsheet, open_private

    items = entries(data_dir)
    open_private(path, file_mode).close()  # owner-only before any content is written
    export_entries(items, path)
    neutralise_spreadsheet(path, file_mode)
    return items


def _unquoted(entry: Entry) -> Entry:
    """The entry as written before the export quoted cells starting like a formula."""
    from db.files import unquote_cell

    return replace(
        entry,
        title=unquote_cell(entry.title),
        questions=tuple(unquote_cell(q) for q in entry.questions),
        answer=unquote_cell(entry.answer),
        source=unquote_cell(entry.source),
    )


def import_spreadsheet(path: Path, data_dir: Path) -> ImportReport:
    """Replace the content with a spreadsheet's entries (all or nothing): ContentError
    naming each bad row and column, and nothing written, when it has any problem."""
    folder = _folder(data_dir)
    new = [_unquoted(e) for e in import_entries(path)]
    with _locked(folder):
        try:
            before = {e.id: e for e in load_entries(folder)} if folder.is_dir() else {}
        except ContentError:
            before = {}
        write_entries(new, folder)
    after = {e.id: e for e in new}
    return ImportReport(
        entries=len(new),
        topics=len({e.topic for e in new}),
        added=len(after.keys() - before.keys()),
        changed=sum(1 for i in after.keys() & before.keys() if after[i] != before[i]),
        removed=len(before.keys() - after.keys()),
        per_topic=dict(sorted(Counter(e.topic for e in new).items())),
    )
