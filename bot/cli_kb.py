"""``kcbot kb check|export|import|stats``: validate the FAQ content, round-trip it via
spreadsheets, and show how often each answer was given, liked and disliked.

The CLI core calls :func:`register` with the sub-parsers of the ``kb`` group; each command's
``func`` is an async ``(args, settings) -> exit code``. Messages are Vietnamese (centre staff
run these commands); every content problem names the file, the entry (or row) and the field.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowledge.content import (
    DEFAULT_DATA_DIR,
    ContentError,
    Entry,
    export_json,
    load_entries,
)

if TYPE_CHECKING:
    from bot.settings import Settings

SPREADSHEET_SUFFIXES = (".xlsx", ".csv")


def register(subparsers: Any) -> None:
    """Add ``check``, ``export`` and ``import`` to the ``kb`` sub-command group."""
    check = subparsers.add_parser(
        "check",
        help="kiểm tra nội dung FAQ (knowledge/data/*.yaml)",
        description="Kiểm tra toàn bộ nội dung FAQ; in từng lỗi trên một dòng.",
    )
    check.set_defaults(func=cmd_check)

    export = subparsers.add_parser(
        "export",
        help="xuất nội dung FAQ ra .xlsx/.csv hoặc JSON",
        description="Xuất nội dung FAQ ra FILE.xlsx hoặc FILE.csv, hoặc in JSON với --json.",
    )
    export.add_argument("file", nargs="?", type=Path, help="tệp .xlsx hoặc .csv cần ghi")
    export.add_argument(
        "--json", action="store_true", help="in mọi mục thành một mảng JSON ra màn hình"
    )
    export.set_defaults(func=cmd_export)

    import_ = subparsers.add_parser(
        "import",
        help="nhập nội dung FAQ từ .xlsx/.csv (thay thế các tệp YAML)",
        description=(
            "Nhập nội dung FAQ từ FILE.xlsx hoặc FILE.csv. Nếu có lỗi thì in lỗi và không "
            "thay đổi gì; nếu hợp lệ thì ghi đè các tệp YAML trong thư mục dữ liệu."
        ),
    )
    import_.add_argument("file", type=Path, help="tệp .xlsx hoặc .csv cần nhập")
    import_.set_defaults(func=cmd_import)

    stats = subparsers.add_parser(
        "stats",
        help="số lần mỗi câu trả lời được đưa ra, được 👍, bị 👎",
        description=(
            "Thống kê theo từng mục: số lần bot đưa ra câu trả lời, số lần người dùng bấm "
            "«Đúng ý» và «Chưa đúng ý»; kèm các câu hỏi bị «Chưa đúng ý» gần nhất."
        ),
    )
    stats.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    stats.add_argument(
        "--limit", type=int, default=20, help="số câu hỏi «Chưa đúng ý» gần nhất (mặc định 20)"
    )
    stats.set_defaults(func=cmd_stats)


def _kb_path(settings: Settings) -> Path:
    return Path(settings.kb_path) if settings.kb_path else DEFAULT_DATA_DIR


def _print_problems(problems: list[str]) -> None:
    for problem in problems:
        print(problem)
    print(f"Có {len(problems)} lỗi.", file=sys.stderr)


def _summary(entries: list[Entry]) -> str:
    topics = {e.topic for e in entries}
    return f"{len(entries)} mục, {len(topics)} chủ đề"


async def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    try:
        entries = load_entries(_kb_path(settings))
    except ContentError as exc:
        _print_problems(exc.problems)
        return 1
    print(f"OK: {_summary(entries)}")
    return 0


def _spreadsheet_suffix_ok(path: Path) -> bool:
    if path.suffix.lower() in SPREADSHEET_SUFFIXES:
        return True
    print(f"{path.name}: chỉ hỗ trợ tệp .xlsx hoặc .csv", file=sys.stderr)
    return False


def _export(path: Path | None, as_json: bool, kb_path: Path, file_mode: int = 0o600) -> int:
    if as_json == (path is not None):
        print(
            "Dùng: kcbot kb export FILE.xlsx|FILE.csv  hoặc  kcbot kb export --json",
            file=sys.stderr,
        )
        return 2
    if path is not None and not _spreadsheet_suffix_ok(path):
        return 2
    from knowledge.editing import EditingUnavailable, export_spreadsheet, summary

    if as_json:
        try:
            entries = load_entries(kb_path)
        except ContentError as exc:
            _print_problems(exc.problems)
            return 1
        try:
            print(json.dumps(export_json(entries), ensure_ascii=False, indent=2), flush=True)
        except BrokenPipeError:  # e.g. piped into `head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    assert path is not None
    try:
        entries = export_spreadsheet(kb_path, path, file_mode)
    except EditingUnavailable:
        _print_problems(_problems(kb_path))
        return 1
    except OSError as exc:
        print(f"{path}: không ghi được tệp ({exc.strerror or exc})", file=sys.stderr)
        return 1
    print(f"Đã xuất {summary(entries)} ra {path}")
    return 0


def _problems(kb_path: Path) -> list[str]:
    try:
        load_entries(kb_path)
    except ContentError as exc:
        return exc.problems
    return []


async def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    mode = getattr(settings, "file_mode_bits", 0o600)
    return _export(args.file, bool(args.json), _kb_path(settings), mode)


def _import(path: Path, data_dir: Path) -> int:
    from knowledge.editing import EditingUnavailable, import_spreadsheet

    if not _spreadsheet_suffix_ok(path):
        return 2
    try:
        report = import_spreadsheet(path, data_dir)
    except EditingUnavailable as exc:
        print(exc, file=sys.stderr)
        return 2
    except ContentError as exc:
        _print_problems(exc.problems)
        print("Không thay đổi gì.", file=sys.stderr)
        return 1
    print(f"Đã nhập {report.entries} mục, {report.topics} chủ đề vào {data_dir}")
    print(f"Thêm {report.added}, sửa {report.changed}, xoá {report.removed} mục.")
    print(", ".join(f"{topic}: {count}" for topic, count in report.per_topic.items()))
    return 0


async def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    return _import(args.file, _kb_path(settings))


async def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    """Per entry: given / liked / disliked, from the database; titles from the content."""
    from db.migrate import upgrade
    from db.repos.faq_feedback import FeedbackRepo
    from db.session import create_engine, session_factory

    try:
        titles = {e.id: e.title for e in load_entries(_kb_path(settings))}
    except ContentError:
        titles = {}
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        async with session_factory(engine)() as session:
            repo = FeedbackRepo(session)
            rows = await repo.stats()
            disliked = await repo.disliked(max(0, args.limit))
    finally:
        await engine.dispose()
    if args.json:
        out = {
            "entries": [
                {
                    "id": r.entry_id,
                    "title": titles.get(r.entry_id),
                    "given": r.given,
                    "liked": r.up,
                    "disliked": r.down,
                }
                for r in rows
            ],
            "disliked_questions": [
                {
                    "id": d.entry_id,
                    "question": d.question,
                    "at": d.created_at.isoformat(),
                }
                for d in disliked
            ],
        }
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("Chưa có câu trả lời nào được ghi nhận.")
        return 0
    print(f"{'Mục':<40} {'Đã trả lời':>10} {'👍':>5} {'👎':>5}")
    for r in rows:
        print(f"{r.entry_id:<40} {r.given:>10} {r.up:>5} {r.down:>5}")
    if disliked:
        print("\nCâu hỏi bị «Chưa đúng ý» gần nhất:")
        for d in disliked:
            print(f"- [{d.entry_id}] {d.question or '(không rõ câu hỏi)'}")
    return 0
