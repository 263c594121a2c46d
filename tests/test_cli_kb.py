"""`kcbot kb check|export|import`, run through bot.cli_kb as the CLI core would."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot import cli_kb
from knowledge.content import DEFAULT_DATA_DIR, export_entries, load_entries


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kcbot")
    sub = parser.add_subparsers(dest="command", required=True)
    kb = sub.add_parser("kb")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    cli_kb.register(kb_sub)
    return parser


async def run(kb_path: Path | None, *argv: str) -> int:
    args = _parser().parse_args(["kb", *argv])
    return await args.func(args, SimpleNamespace(kb_path=kb_path))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, target)
    return target


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


async def test_check_shipped_content(capsys: pytest.CaptureFixture[str]) -> None:
    assert await run(None, "check") == 0
    entries = load_entries()
    topics = {e.topic for e in entries}
    assert capsys.readouterr().out.strip() == f"OK: {len(entries)} mục, {len(topics)} chủ đề"


async def test_check_reports_each_problem(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = data_dir / "contact.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("topic: contact", "topic: contacts", 1).replace(
            "related: [contact-address, contact-staff]", "related: [contact-nowhere]"
        ),
        encoding="utf-8",
    )
    assert await run(data_dir, "check") == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert 'contact.yaml: entry "contact-phone" field "topic": unknown topic "contacts"' in lines
    assert (
        'contact.yaml: entry "contact-phone" field "related": unknown entry id "contact-nowhere"'
        in lines
    )
    assert "Có 2 lỗi." in captured.err


async def test_export_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert await run(None, "export", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data) == len(load_entries())
    machinery = next(item for item in data if item["id"] == "machinery-support-level")
    assert machinery["topic"] == "machinery"
    assert "300 triệu đồng" in machinery["answer"]
    assert {"id", "topic", "questions", "answer", "source", "title", "reviewed", "related"} <= set(
        machinery
    )


async def test_json_output_keeps_vietnamese_readable(capsys: pytest.CaptureFixture[str]) -> None:
    await run(None, "export", "--json")
    out = capsys.readouterr().out
    assert "Khuyến công" in out and "\\u" not in out


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
async def test_export_then_import_changes_nothing(
    data_dir: Path, tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / f"faq{suffix}"
    before = load_entries(data_dir)
    assert await run(data_dir, "export", str(sheet)) == 0
    assert sheet.exists()
    assert await run(data_dir, "import", str(sheet)) == 0
    out = capsys.readouterr().out
    assert f"Đã nhập {len(before)} mục" in out
    assert "Thêm 0, sửa 0, xoá 0 mục." in out
    assert sorted(load_entries(data_dir), key=lambda e: e.id) == sorted(before, key=lambda e: e.id)


async def test_import_applies_an_edit(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = load_entries(data_dir)
    sheet = tmp_path / "faq.csv"
    export_entries(entries, sheet)
    text = sheet.read_text(encoding="utf-8-sig")
    sheet.write_text(
        text.replace("Số điện thoại Trung tâm Khuyến công", "Điện thoại Trung tâm"),
        encoding="utf-8-sig",
    )
    assert await run(data_dir, "import", str(sheet)) == 0
    assert "sửa 1" in capsys.readouterr().out
    changed = {e.id: e for e in load_entries(data_dir)}["contact-phone"]
    assert changed.title == "Điện thoại Trung tâm"


async def test_broken_import_changes_nothing(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = load_entries(data_dir)
    sheet = tmp_path / "faq.xlsx"
    export_entries(entries, sheet)

    from openpyxl import load_workbook

    workbook = load_workbook(sheet)
    ws = workbook.worksheets[0]
    ws["B3"] = "no-such-topic"
    ws["E4"] = ""
    workbook.save(sheet)

    before = _snapshot(data_dir)
    assert await run(data_dir, "import", str(sheet)) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert (
        f'faq.xlsx: row 3 (entry "{entries[1].id}") column "topic": unknown topic "no-such-topic"'
        in lines
    )
    assert f'faq.xlsx: row 4 (entry "{entries[2].id}") column "answer": missing' in lines
    assert "Không thay đổi gì." in captured.err
    assert _snapshot(data_dir) == before


async def test_export_needs_a_file_or_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert await run(None, "export") == 2
    assert await run(None, "export", str(tmp_path / "faq.txt")) == 2
    assert "chỉ hỗ trợ tệp .xlsx hoặc .csv" in capsys.readouterr().err
    assert not (tmp_path / "faq.txt").exists()


async def test_import_of_missing_file(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _snapshot(data_dir)
    assert await run(data_dir, "import", str(data_dir / "nowhere.csv")) == 1
    assert "nowhere.csv: no such file" in capsys.readouterr().out
    assert _snapshot(data_dir) == before


async def test_stats_per_entry_given_liked_disliked(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from db.migrate import upgrade
    from db.repos.faq_feedback import FeedbackRepo
    from db.session import create_engine, session_factory

    engine = create_engine(sqlite_url)
    try:
        await upgrade(engine)
        async with session_factory(engine)() as session, session.begin():
            repo = FeedbackRepo(session)
            for kind in ("given", "given", "up", "down"):
                question = "hỏi sai ý" if kind == "down" else None
                await repo.add("telegram", "1", "machinery-support-level", kind, question)
            await repo.add("telegram", "2", "contact-phone", "given")
    finally:
        await engine.dispose()
    settings = SimpleNamespace(kb_path=None, database_url=sqlite_url)
    args = _parser().parse_args(["kb", "stats", "--json"])
    assert await args.func(args, settings) == 0
    out = json.loads(capsys.readouterr().out)
    rows = {r["id"]: r for r in out["entries"]}
    assert rows["machinery-support-level"]["given"] == 2
    assert rows["machinery-support-level"]["liked"] == 1
    assert rows["machinery-support-level"]["disliked"] == 1
    assert rows["contact-phone"]["given"] == 1 and rows["contact-phone"]["disliked"] == 0
    assert out["entries"][0]["id"] == "machinery-support-level"
    assert out["disliked_questions"][0]["question"] == "hỏi sai ý"

    args = _parser().parse_args(["kb", "stats"])
    assert await args.func(args, settings) == 0
    text = capsys.readouterr().out
    assert "machinery-support-level" in text and "hỏi sai ý" in text
