# ruff: noqa: E501  (the CSV sample keeps its real, long lines)
"""Importing events from CSV and XLSX, and the `kcbot events|reminders|outbox` commands."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from db.repos.events import EventRepo
from handlers.reminders.events_import import import_file, parse_when
from tests.test_outbox_support import local, sessions_for

CSV = """title,kind,start,end,place,provinces,sectors,description,contact,source
Hội chợ hàng CNNT khu vực phía Bắc,trade_fair,2026-05-16,2026-05-19,"Cung Triển lãm, Hà Nội",all,Thủ công mỹ nghệ;Chế biến thực phẩm,270 gian hàng,Phòng QLCN 0243 123 456,Cục CTĐP
Hạn nộp đề án KCQG 2027,hạn nộp,20/06/2026,,Sở Công Thương,Quảng Ngãi;Gia Lai,,,,
,deadline,2026-07-01,,,,,,,
Tập huấn thương mại điện tử,tập huấn,2026-13-01,,,,,,,
Hội nghị khuyến công khu vực,hội nghị,2026-10-01 08:30,2026-10-01 11:30,Hải Phòng,all,,,,
Sự kiện lạ,liên hoan,2026-08-01,,,,,,,
Bình chọn sản phẩm CNNT tiêu biểu,bình chọn,2026-09-10,2026-09-01,,,,,,
"""


@pytest.fixture
async def db(db_url):
    engine, sessions = sessions_for(db_url)
    yield sessions
    await engine.dispose()


async def run_import(sessions, path):
    async with sessions() as session, session.begin():
        return await import_file(session, path, datetime.now(UTC))


async def test_csv_import_reports_bad_rows_and_imports_the_rest(db, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(CSV, encoding="utf-8")
    report = await run_import(db, path)
    assert report.created == 3
    errors = dict(report.errors)
    assert sorted(errors) == [4, 5, 7, 8]
    assert "tiêu đề" in errors[4]
    assert "ngày bắt đầu «2026-13-01»" in errors[5]
    assert "liên hoan" in errors[7]
    assert "kết thúc trước" in errors[8]
    async with db() as session:
        events = await EventRepo(session).find()
    fair, deadline, conference = events
    assert fair.kind == "trade_fair" and fair.provinces == [] and fair.all_day
    assert fair.sectors == ["Thủ công mỹ nghệ", "Chế biến thực phẩm"]
    assert fair.starts_at == local(2026, 5, 16)
    assert deadline.kind == "deadline" and deadline.provinces == ["Quảng Ngãi", "Gia Lai"]
    assert conference.starts_at == local(2026, 10, 1, 8, 30) and not conference.all_day


async def test_reimport_updates_instead_of_duplicating(db, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(CSV, encoding="utf-8")
    await run_import(db, path)
    path.write_text(CSV.replace("270 gian hàng", "300 gian hàng"), encoding="utf-8")
    report = await run_import(db, path)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    async with db() as session:
        events = await EventRepo(session).find()
    assert len(events) == 3 and events[0].description == "300 gian hàng"


async def test_xlsx_with_vietnamese_headers(db, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(
        [
            "Tên sự kiện",
            "Loại",
            "Bắt đầu",
            "Kết thúc",
            "Địa điểm",
            "Tỉnh",
            "Ngành",
            "Mô tả",
            "Liên hệ",
            "Nguồn",
        ]
    )
    sheet.append(
        [
            "Hội chợ Mùa Thu 2026",
            "Hội chợ",
            datetime(2026, 10, 25),
            "04/11/2026",
            "VEC Đông Anh",
            "Hà Nội",
            "",
            "",
            "",
            "Bộ Công Thương",
        ]
    )
    sheet.append(
        [
            "Lớp tập huấn",
            "Tập huấn",
            "05/11/2026 14:00",
            None,
            None,
            "tất cả",
            None,
            None,
            None,
            None,
        ]
    )
    sheet.append(["Thiếu ngày", "Hội nghị", None, None, None, None, None, None, None, None])
    path = tmp_path / "su_kien.xlsx"
    book.save(path)
    report = await run_import(db, path)
    assert report.created == 2
    assert report.errors == [(4, "thiếu ngày bắt đầu")]
    async with db() as session:
        fair, course = await EventRepo(session).find()
    assert fair.kind == "trade_fair" and fair.provinces == ["Hà Nội"]
    assert fair.ends_at == local(2026, 11, 4)
    assert course.starts_at == local(2026, 11, 5, 14, 0)


def test_date_formats():
    assert parse_when("2026-05-16", "x") == (local(2026, 5, 16), True)
    assert parse_when("16/05/2026 08:30", "x") == (local(2026, 5, 16, 8, 30), False)
    assert parse_when("2026-05-16 00:30", "x")[0] == datetime(2026, 5, 15, 17, 30, tzinfo=UTC)


def _kcbot(tmp_path, *args):
    env = {
        "KCBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/kc.sqlite3",
        "PATH": "",
        "TZ": "UTC",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


def test_commands(tmp_path):
    (tmp_path / "ev.csv").write_text(CSV, encoding="utf-8")
    result = _kcbot(tmp_path, "events", "import", "ev.csv")
    assert result.returncode == 1  # some rows were bad
    assert "Dòng 5:" in result.stderr and "Thêm mới 3" in result.stdout
    listed = json.loads(_kcbot(tmp_path, "events", "list", "--json").stdout)
    assert [e["kind"] for e in listed] == ["trade_fair", "deadline", "conference"]
    added = _kcbot(
        tmp_path,
        "events",
        "add",
        "--title",
        "Tập huấn",
        "--kind",
        "tập huấn",
        "--start",
        "2026-05-20",
    )
    assert added.returncode == 0 and "Đã thêm sự kiện #4" in added.stdout
    cancelled = _kcbot(tmp_path, "events", "cancel", "4")
    assert cancelled.returncode == 0 and "Đã hủy" in cancelled.stdout
    due = _kcbot(tmp_path, "reminders", "run-due", "--now", "2026-05-09T08:00")
    assert due.returncode == 0, due.stderr
    status = json.loads(_kcbot(tmp_path, "outbox", "status", "--json").stdout)
    assert status["sent"] == 0 and status["failed"] == 0


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("su-kien.csv", CSV.encode("cp1258", errors="replace"), "hãy lưu dạng CSV UTF-8"),
        ("su-kien.xlsx", b"PK\x03\x04 not really a workbook", "không phải bảng tính XLSX"),
    ],
)
def test_unreadable_file_is_one_line_saying_what_to_do(tmp_path, name, content, said):
    path = tmp_path / name
    path.write_bytes(content)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "events", "import", str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "KCBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'kc.sqlite3'}",
        },
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and said in lines[0], result.stderr
    assert "Traceback" not in result.stderr
