"""FAQ content: loading, validating and round-tripping the knowledge-base entries.

The content lives in ``knowledge/data/<topic>.yaml`` (one YAML list of entries per topic) so
that centre staff can edit it. Staff who prefer a spreadsheet can export the entries to
.xlsx/.csv, edit them and import them back; every path goes through the same validation,
and every problem names the file, the entry (or row) and the field (or column).
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple

import yaml

DEFAULT_DATA_DIR = Path(__file__).parent / "data"

# Topic ids of the evaluation's topics.md, each with a short label for browse buttons.
TOPICS: dict[str, str] = {
    "overview": "Khuyến công là gì",
    "legal-basis": "Văn bản pháp luật",
    "eligibility": "Đối tượng được hỗ trợ",
    "funding": "Nguồn kinh phí",
    "training": "Đào tạo, truyền nghề",
    "management": "Nâng cao năng lực quản lý",
    "demo-model": "Mô hình trình diễn",
    "machinery": "Máy móc, thiết bị",
    "cleaner-production": "Sản xuất sạch hơn, môi trường",
    "typical-products": "Sản phẩm CNNT tiêu biểu",
    "trade-fairs": "Hội chợ, triển lãm",
    "showroom": "Phòng trưng bày, thương hiệu",
    "consulting": "Tư vấn",
    "digital": "Chuyển đổi số, bán hàng online",
    "information": "Thông tin, tuyên truyền",
    "linkage": "Liên kết, hiệp hội, cụm CN",
    "application": "Hồ sơ, thủ tục",
    "acceptance": "Nghiệm thu, giải ngân",
    "contact": "Liên hệ Trung tâm",
    "ocop": "OCOP và khuyến công",
    "collaborators": "Cộng tác viên khuyến công",
}

# Placeholders an answer may contain, filled from deployment settings at answer time.
PLACEHOLDERS: tuple[str, ...] = (
    "centre_name",
    "centre_phone",
    "centre_address",
    "centre_hours",
    "centre_email",
)
PLACEHOLDER_FALLBACKS: dict[str, str] = {
    "centre_name": "Trung tâm Khuyến công tỉnh",
}
MISSING_VALUE = "chưa cập nhật"

MAX_ANSWER = 900
MAX_TITLE = 40
MAX_ID = 40
FIELDS: tuple[str, ...] = (
    "id",
    "topic",
    "title",
    "questions",
    "answer",
    "source",
    "reviewed",
    "related",
)
REQUIRED_FIELDS = FIELDS[:-1]

_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")
_QUESTION_SEP_RE = re.compile(r"\n|\|")
_RELATED_SEP_RE = re.compile(r"[;,\s]+")


@dataclass(frozen=True)
class Entry:
    """One FAQ entry: the phrasings users type and the answer the bot gives."""

    id: str
    topic: str
    title: str
    questions: tuple[str, ...]
    answer: str
    source: str
    reviewed: date
    related: tuple[str, ...] = ()


class ContentError(Exception):
    """The content has problems; ``problems`` lists every one, each naming where it is."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = "; ".join(self.problems[:3])
        more = f" (và {count - 3} lỗi khác)" if count > 3 else ""
        super().__init__(f"{count} lỗi nội dung: {head}{more}")


# --------------------------------------------------------------------------------------
# Validation shared by YAML and spreadsheet loading


def _clean_text(value: str) -> str:
    """Normalise line endings and trailing spaces so that round trips are stable."""
    lines = value.replace("\r\n", "\n").replace("\r", "\n").strip().split("\n")
    return "\n".join(line.rstrip() for line in lines)


def placeholder_problems(text: str) -> list[str]:
    """Problems with ``{...}`` placeholders in ``text`` (unknown names, stray braces)."""
    problems = []
    for name in _PLACEHOLDER_RE.findall(text):
        if name not in PLACEHOLDERS:
            problems.append(
                f"unknown placeholder {{{name}}} (allowed: "
                + ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                + ")"
            )
    rest = _PLACEHOLDER_RE.sub("", text)
    if "{" in rest or "}" in rest:
        problems.append("unmatched brace; literal { or } is not allowed")
    return problems


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class _Facts:
    """What the checks across entries need, known even for an entry with problems."""

    id: str
    related: tuple[str, ...]
    questions: tuple[str, ...]
    place: str
    where: Callable[[str], str]


class _Checked(NamedTuple):
    entry: Entry | None
    problems: list[tuple[str | None, str]]
    id: str
    related: tuple[str, ...]
    questions: tuple[str, ...]


def _validate_one(raw: Any) -> _Checked:
    """Check one raw entry.

    Returns the entry (None if it has problems), (field, problem) pairs, and the id, related
    ids and questions as far as they could be read (for the checks across entries).
    """
    if not isinstance(raw, dict):
        problem = (None, f"must be a mapping of fields, got {type(raw).__name__}")
        return _Checked(None, [problem], "", (), ())
    problems: list[tuple[str | None, str]] = []
    for key in raw:
        if key not in FIELDS:
            problems.append((str(key), "unknown field (allowed: " + ", ".join(FIELDS) + ")"))
    for key in REQUIRED_FIELDS:
        if key not in raw or raw[key] is None or raw[key] == "":
            problems.append((key, "missing"))

    def text(key: str, limit: int | None = None) -> str:
        value = raw.get(key)
        if value is None or value == "":
            return ""
        if not isinstance(value, str):
            problems.append((key, f"must be text, got {type(value).__name__}"))
            return ""
        value = _clean_text(value)
        if not value:
            problems.append((key, "empty"))
        elif limit is not None and len(value) > limit:
            problems.append((key, f"longer than {limit} characters ({len(value)})"))
        return value

    entry_id = text("id", MAX_ID)
    if entry_id and not _ID_RE.match(entry_id):
        problems.append(("id", "must be lowercase letters, digits and single hyphens"))
    topic = text("topic")
    if topic and topic not in TOPICS:
        problems.append(("topic", f'unknown topic "{topic}"'))
    title = text("title", MAX_TITLE)
    for message in placeholder_problems(title):
        problems.append(("title", message))
    answer = text("answer", MAX_ANSWER)
    for message in placeholder_problems(answer):
        problems.append(("answer", message))
    source = text("source")

    questions: list[str] = []
    raw_questions = raw.get("questions")
    if raw_questions is not None and raw_questions != "":
        if not isinstance(raw_questions, list):
            problems.append(("questions", "must be a list of questions"))
        else:
            for i, question in enumerate(raw_questions, start=1):
                if not isinstance(question, str) or not question.strip():
                    problems.append(("questions", f"question {i} is empty or not text"))
                else:
                    questions.append(" ".join(question.split()))
            if not raw_questions:
                problems.append(("questions", "empty"))
            seen: set[str] = set()
            for question in questions:
                key = question.casefold()
                if key in seen:
                    problems.append(("questions", f'repeated question "{question}"'))
                seen.add(key)

    reviewed: date | None = None
    if raw.get("reviewed") not in (None, ""):
        reviewed = _as_date(raw["reviewed"])
        if reviewed is None:
            problems.append(("reviewed", f"not a date YYYY-MM-DD: {raw['reviewed']!r}"))

    related: list[str] = []
    raw_related = raw.get("related")
    if raw_related not in (None, ""):
        if not isinstance(raw_related, list) or not all(isinstance(r, str) for r in raw_related):
            problems.append(("related", "must be a list of entry ids"))
        else:
            related = [r.strip() for r in raw_related if r.strip()]

    known = (entry_id, tuple(related), tuple(questions))
    if problems or reviewed is None:
        return _Checked(None, problems, *known)
    entry = Entry(
        id=entry_id,
        topic=topic,
        title=title,
        questions=tuple(questions),
        answer=answer,
        source=source,
        reviewed=reviewed,
        related=tuple(related),
    )
    return _Checked(entry, problems, *known)


def _cross_check(facts: list[_Facts]) -> list[str]:
    """Checks across entries: unique ids, related ids exist, no question in two entries."""
    problems: list[str] = []
    first_place: dict[str, str] = {}
    for fact in facts:
        if not fact.id:
            continue
        if fact.id in first_place:
            problems.append(
                f"{fact.where('id')}: duplicate id, already used at {first_place[fact.id]}"
            )
        else:
            first_place[fact.id] = fact.place
    question_owner: dict[str, str] = {}
    for fact in facts:
        for rel in fact.related:
            if rel == fact.id:
                problems.append(f"{fact.where('related')}: refers to itself")
            elif rel not in first_place:
                problems.append(f'{fact.where("related")}: unknown entry id "{rel}"')
        for question in fact.questions:
            key = question.casefold()
            owner = question_owner.setdefault(key, fact.id)
            if owner != fact.id:
                problems.append(
                    f'{fact.where("questions")}: question "{question}" is also in entry "{owner}"'
                )
    return problems


# --------------------------------------------------------------------------------------
# YAML


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects a mapping with the same key twice."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    keys: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in keys:
            raise yaml.constructor.ConstructorError(
                None, None, f'field "{key}" appears twice', key_node.start_mark
            )
        keys.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)


def _yaml_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    return [path]


def _entry_label(raw: Any, index: int) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str) and raw["id"].strip():
        return f'entry "{raw["id"].strip()}"'
    return f"entry #{index}"


def load_entries(path: Path = DEFAULT_DATA_DIR) -> list[Entry]:
    """Read and validate every entry in a directory of *.yaml files (or in one file).

    Raises ContentError listing all problems found.
    """
    path = Path(path)
    if not path.exists():
        raise ContentError([f"{path}: no such file or directory"])
    problems: list[str] = []
    entries: list[Entry] = []
    facts: list[_Facts] = []
    files = _yaml_files(path)
    if not files:
        raise ContentError([f"{path}: no .yaml files"])
    for file in files:
        name = file.name
        try:
            data = yaml.load(file.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
        except UnicodeDecodeError:
            problems.append(f"{name}: not UTF-8 text")
            continue
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = f" line {mark.line + 1}" if mark is not None else ""
            reason = getattr(exc, "problem", None) or str(exc)
            problems.append(f"{name}:{line} YAML syntax error: {reason}")
            continue
        if data is None:
            continue
        if not isinstance(data, list):
            problems.append(f"{name}: must be a YAML list of entries (each starting with '- id:')")
            continue
        for index, raw in enumerate(data, start=1):
            place = f"{name}: {_entry_label(raw, index)}"
            checked = _validate_one(raw)

            def where(field: str, place: str = place) -> str:
                return f'{place} field "{field}"'

            for field, message in checked.problems:
                problems.append(f"{where(field)}: {message}" if field else f"{place}: {message}")
            facts.append(_Facts(checked.id, checked.related, checked.questions, place, where))
            if checked.entry is not None:
                entries.append(checked.entry)
    problems.extend(_cross_check(facts))
    if problems:
        raise ContentError(problems)
    return entries


def fill_placeholders(answer: str, values: Mapping[str, str | None]) -> str:
    """Replace ``{centre_phone}`` etc. with deployment values; missing ones get a fallback."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in PLACEHOLDERS:
            return match.group(0)
        value = values.get(name)
        if value is None or not str(value).strip():
            return PLACEHOLDER_FALLBACKS.get(name, MISSING_VALUE)
        return str(value).strip()

    return _PLACEHOLDER_RE.sub(replace, answer)


class _Literal(str):
    """A string dumped as a YAML literal block (``|``)."""


class _Dumper(yaml.SafeDumper):
    """Indents list items under their key, as the hand-written files do."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def _literal_representer(dumper: yaml.SafeDumper, value: _Literal) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="|")


_Dumper.add_representer(_Literal, _literal_representer)


def _entry_to_yaml_dict(entry: Entry) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": entry.id,
        "topic": entry.topic,
        "title": entry.title,
        "questions": list(entry.questions),
        "answer": _Literal(entry.answer),
        "source": entry.source,
        "reviewed": entry.reviewed,
    }
    if entry.related:
        data["related"] = list(entry.related)
    return data


def dump_yaml(entries: Iterable[Entry]) -> str:
    """YAML text for a list of entries: UTF-8 readable, block style, answers as blocks."""
    chunks = [
        yaml.dump(
            [_entry_to_yaml_dict(e)],
            Dumper=_Dumper,
            allow_unicode=True,
            sort_keys=False,
            default_flow_style=False,
            width=100,
        )
        for e in entries
    ]
    return "\n".join(chunks)  # a blank line between entries


def write_entries(entries: Sequence[Entry], data_dir: Path) -> list[Path]:
    """Write entries as one YAML file per topic, replacing the directory's YAML files.

    Each file is written to a temporary name first and renamed, then YAML files of topics
    that no longer have entries are removed. Returns the files written.
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    by_topic: dict[str, list[Entry]] = {}
    for entry in entries:
        by_topic.setdefault(entry.topic, []).append(entry)
    written = [
        write_topic(topic, topic_entries, data_dir) for topic, topic_entries in by_topic.items()
    ]
    keep = {p.name for p in written}
    for old in _yaml_files(data_dir):
        if old.name not in keep:
            old.unlink()
    return written


def write_topic(topic: str, entries: Sequence[Entry], data_dir: Path) -> Path:
    """Write one topic's file ``<topic>.yaml`` (temporary name, then renamed: a reader sees
    the old file or the new one); with no entries, remove it."""
    target = Path(data_dir) / f"{topic}.yaml"
    if not entries:
        target.unlink(missing_ok=True)
        return target
    label = TOPICS.get(topic, topic)
    header = (
        f"# Chủ đề: {label} ({topic}). Mỗi mục: id, topic, title, questions, answer,\n"
        "# source, reviewed, related. Kiểm tra sau khi sửa: kcbot kb check\n"
    )
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{topic}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(header + dump_yaml(entries))
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


def entry_problems(raw: Mapping[str, Any], others: Sequence[Entry]) -> list[tuple[str, str]]:
    """Every problem of one entry (as a mapping of fields) among ``others``, the same checks
    as ``load_entries``: (field, problem) pairs, the field "" when it is the whole entry."""
    checked = _validate_one(dict(raw))
    problems = [(field or "", message) for field, message in checked.problems]
    facts = [
        _Facts(e.id, e.related, e.questions, f'entry "{e.id}"', lambda f: "\0" + f) for e in others
    ]
    # The entry under edit goes last: a clash (id, question) is reported on it.
    mine = _Facts(checked.id, checked.related, checked.questions, "", lambda f: f)
    for message in _cross_check([*facts, mine]):
        if not message.startswith("\0"):
            field, _, text = message.partition(": ")
            problems.append((field, text))
    return problems


# --------------------------------------------------------------------------------------
# Spreadsheets and JSON


def _row_values(entry: Entry, question_sep: str) -> list[str]:
    return [
        entry.id,
        entry.topic,
        entry.title,
        question_sep.join(entry.questions),
        entry.answer,
        entry.source,
        entry.reviewed.isoformat(),
        ";".join(entry.related),
    ]


def export_entries(entries: Iterable[Entry], path: Path) -> None:
    """Write entries to a spreadsheet: .xlsx (openpyxl) or .csv (UTF-8 with BOM)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(FIELDS)
            for entry in entries:
                writer.writerow(_row_values(entry, " | "))
    elif suffix == ".xlsx":
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Font

        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None
        sheet.title = "FAQ"
        sheet.append(list(FIELDS))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        wrap = Alignment(wrap_text=True, vertical="top")
        for entry in entries:
            sheet.append(_row_values(entry, "\n"))
            for cell in sheet[sheet.max_row]:
                cell.alignment = wrap
                cell.number_format = "@"
        widths = {"A": 28, "B": 16, "C": 30, "D": 50, "E": 80, "F": 36, "G": 12, "H": 30}
        for column, width in widths.items():
            sheet.column_dimensions[column].width = width
        sheet.freeze_panes = "A2"
        workbook.save(path)
    else:
        raise ValueError(f"{path.name}: unsupported file type (use .xlsx or .csv)")


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_rows(path: Path) -> list[list[str]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return [list(row) for row in csv.reader(fh)]
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            return [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        finally:
            workbook.close()
    raise ValueError(f"{path.name}: unsupported file type (use .xlsx or .csv)")


def import_entries(path: Path) -> list[Entry]:
    """Read entries from a spreadsheet written by export_entries (possibly edited).

    Raises ContentError naming the row number and column of every problem.
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise ContentError([f"{name}: no such file"])
    try:
        rows = _read_rows(path)
    except ValueError as exc:
        raise ContentError([str(exc)]) from exc
    except UnicodeDecodeError as exc:
        raise ContentError([f"{name}: not UTF-8 text"]) from exc
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ContentError([f"{name}: cannot read the spreadsheet ({exc})"]) from exc
    if not rows:
        raise ContentError([f"{name}: empty file"])
    header = [h.strip().lower() for h in rows[0]]
    missing = [f for f in REQUIRED_FIELDS if f not in header]
    if missing:
        raise ContentError(
            [
                f'{name}: row 1: missing column "{f}" (header must be: {", ".join(FIELDS)})'
                for f in missing
            ]
        )
    columns = {field: header.index(field) for field in FIELDS if field in header}
    problems: list[str] = []
    entries: list[Entry] = []
    facts: list[_Facts] = []
    for row_no, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue

        def cell(field: str, row: list[str] = row) -> str:
            index = columns.get(field)
            return row[index] if index is not None and index < len(row) else ""

        raw: dict[str, Any] = {
            field: cell(field) for field in ("id", "topic", "title", "answer", "source", "reviewed")
        }
        raw["questions"] = [
            q.strip() for q in _QUESTION_SEP_RE.split(cell("questions")) if q.strip()
        ]
        raw["related"] = [r for r in _RELATED_SEP_RE.split(cell("related")) if r]
        entry_id = raw["id"].strip()
        place = f"{name}: row {row_no}" + (f' (entry "{entry_id}")' if entry_id else "")

        def where(field: str, place: str = place) -> str:
            return f'{place} column "{field}"'

        checked = _validate_one(raw)
        for field, message in checked.problems:
            problems.append(f"{where(field)}: {message}" if field else f"{place}: {message}")
        facts.append(_Facts(checked.id, checked.related, checked.questions, place, where))
        if checked.entry is not None:
            entries.append(checked.entry)
    problems.extend(_cross_check(facts))
    if problems:
        raise ContentError(problems)
    if not entries:
        raise ContentError([f"{name}: no entries"])
    return entries


def export_json(entries: Iterable[Entry]) -> list[dict[str, Any]]:
    """Entries as JSON-ready dicts (reviewed as an ISO date)."""
    return [
        {
            "id": e.id,
            "topic": e.topic,
            "title": e.title,
            "questions": list(e.questions),
            "answer": e.answer,
            "source": e.source,
            "reviewed": e.reviewed.isoformat(),
            "related": list(e.related),
        }
        for e in entries
    ]
