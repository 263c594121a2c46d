"""Editing the FAQ one entry at a time (knowledge.editing, handlers.faq.editing): the same
checks as `kcbot kb check` with Vietnamese problems per field, only the entry's topic file
rewritten, and the bot answering with the new text — in this process at once, in another
one (its own knowledge base over the same folder) at its next reload."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.app import build_app
from db.repos.faq import UnansweredRepo
from db.repos.privacy import AuditRepo
from handlers.faq import editing as faq_editing
from knowledge import editing
from knowledge.content import DEFAULT_DATA_DIR, load_entries
from knowledge.kb import KnowledgeBase
from tests.auxil.app import ChatUser, make_settings

TODAY = date(2026, 12, 2)
NEW_ANSWER = "Bạn gọi {centre_phone} gặp chị Lan (phòng Tư vấn), giờ hành chính."


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(DEFAULT_DATA_DIR, target)
    return target


def _form(entry_id: str, data_dir: Path, **changes: str) -> dict[str, str]:
    entry = next(e for e in load_entries(data_dir) if e.id == entry_id)
    return {**editing.entry_to_form(entry), **changes}


def _version(entry_id: str, data_dir: Path) -> str:
    return editing.version(next(e for e in load_entries(data_dir) if e.id == entry_id))


def test_edit_rewrites_only_its_topic_file(data_dir: Path) -> None:
    before = {p.name: p.read_bytes() for p in data_dir.iterdir()}
    result = editing.save_entry(
        data_dir,
        _form("contact-phone", data_dir, answer=NEW_ANSWER, reviewed=""),
        today=TODAY,
        original_id="contact-phone",
        expected_version=_version("contact-phone", data_dir),
    )
    assert result.ok and not result.created and result.entry is not None
    assert result.entry.reviewed == TODAY  # left empty: reviewed today
    after = {p.name: p.read_bytes() for p in data_dir.iterdir()}
    assert sorted(after) == sorted(before)  # no lock or temporary file left behind
    assert [name for name in after if after[name] != before[name]] == ["contact.yaml"]
    entry = next(e for e in load_entries(data_dir) if e.id == "contact-phone")
    assert entry.answer == NEW_ANSWER and entry.questions  # `kb check` reads it as saved


def test_problems_are_shown_per_field_in_vietnamese(data_dir: Path) -> None:
    before = {p.name: p.read_bytes() for p in data_dir.iterdir()}
    result = editing.save_entry(
        data_dir,
        _form(
            "contact-phone",
            data_dir,
            answer="x" * 901 + " {so_dien_thoai}",
            questions="Trung tâm khuyến công ở đâu?\n\n",
            related="contact-nowhere",
            reviewed="02/12/2026",
            title="T" * 41,
        ),
        today=TODAY,
        original_id="contact-phone",
    )
    assert not result.ok
    assert result.problems["answer"] == [
        "Dài quá 900 ký tự (đang có 917).",
        "Không có ô điền {so_dien_thoai}; chỉ dùng {centre_name}, {centre_phone}, "
        "{centre_address}, {centre_hours}, {centre_email}.",
    ]
    assert result.problems["title"] == ["Dài quá 40 ký tự (đang có 41)."]
    assert result.problems["reviewed"] == ["Ngày chưa đúng; ví dụ: 2026-12-01."]
    assert result.problems["related"] == ["Không có mục mã «contact-nowhere»."]
    assert result.problems["questions"] == [
        "Câu «Trung tâm khuyến công ở đâu?» đã có ở mục «contact-address»."
    ]
    assert {p.name: p.read_bytes() for p in data_dir.iterdir()} == before  # nothing written
    empty = editing.save_entry(data_dir, {"topic": "contact"}, today=TODAY)
    assert empty.problems["questions"] == ["Gõ ít nhất một câu hỏi, mỗi câu một dòng."]
    assert empty.problems["answer"] == ["Chưa điền."] and empty.problems["title"] == ["Chưa điền."]


def test_a_change_made_meanwhile_is_not_overwritten(data_dir: Path) -> None:
    opened = _version("contact-hours", data_dir)
    first = _form("contact-hours", data_dir, source="Quyết định 1/QĐ-TTKC")
    assert editing.save_entry(
        data_dir, first, today=TODAY, original_id="contact-hours", expected_version=opened
    ).ok
    second = _form("contact-hours", data_dir, source="Nguồn khác")
    stale = editing.save_entry(
        data_dir, second, today=TODAY, original_id="contact-hours", expected_version=opened
    )
    assert stale.problems == {"": [editing.STALE]}
    entry = next(e for e in load_entries(data_dir) if e.id == "contact-hours")
    assert entry.source == "Quyết định 1/QĐ-TTKC"


def test_new_entry_gets_an_id_from_its_title(data_dir: Path) -> None:
    form = {
        "topic": "trade-fairs",
        "title": "Hội chợ Đà Nẵng 2027",
        "questions": "Năm 2027 có hội chợ ở Đà Nẵng không?\nhoi cho da nang 2027",
        "answer": "Hội chợ diễn ra tháng 5/2027; đăng ký qua {centre_name}.",
        "source": "Kế hoạch khuyến công 2027",
    }
    result = editing.save_entry(data_dir, form, today=TODAY)
    assert result.ok and result.created and result.entry is not None
    assert result.entry.id == "hoi-cho-da-nang-2027"
    again = editing.save_entry(data_dir, form, today=TODAY)
    assert again.problems["questions"][0].endswith("đã có ở mục «hoi-cho-da-nang-2027».")
    kb = KnowledgeBase.load(data_dir)
    best = kb.answer("năm 2027 có hội chợ ở đà nẵng không").best
    assert best is not None and best.entry_id == "hoi-cho-da-nang-2027"


def test_a_file_path_cannot_be_edited(tmp_path: Path) -> None:
    single = tmp_path / "faq.yaml"
    shutil.copy(DEFAULT_DATA_DIR / "contact.yaml", single)
    with pytest.raises(editing.EditingUnavailable, match="cần một thư mục"):
        editing.save_entry(single, {}, today=TODAY)


def test_search_without_diacritics() -> None:
    items = load_entries()
    found = editing.search(items, "so dien thoai")
    assert found[0].id == "contact-phone"  # the words in its title: first
    assert editing.search(items, "gio lam viec")[0].id == "contact-hours"
    assert all(e.topic == "contact" for e in editing.search(items, "", "contact"))
    assert editing.search(items, "qwzx") == []
    assert "contact-phone" in [e.id for e in editing.search(items, "contact-phone")]


async def test_the_bot_answers_with_the_saved_text(db_url: str, data_dir: Path) -> None:
    """Saved from the pages: this process's bot answers with it at once; a bot in another
    process (its own knowledge base over the same folder) after its next reload."""
    app = await build_app(make_settings(db_url, kb_path=data_dir))
    other_process = KnowledgeBase.load(data_dir)
    try:
        asker = ChatUser(app, chat_id="501")
        await asker.send("/start")
        await asker.send("số điện thoại trung tâm khuyến công")
        assert "chị Lan" not in asker.text
        other = ChatUser(app, chat_id="502")
        await other.send("/start")
        await other.send("giá phân bón hôm nay thế nào")  # not answered: for staff to review
        async with app.sessions() as session:
            total, groups = await faq_editing.unanswered(session, app.services.kb, 0, 10)
        assert total == 1 and groups[0].question.text == "giá phân bón hôm nay thế nào"
        async with app.sessions() as session, session.begin():
            result = await faq_editing.save(
                session,
                app.settings,
                _form("contact-phone", data_dir, answer=NEW_ANSWER),
                actor="web:lan",
                now=datetime.now(UTC),
                today=TODAY,
                original_id="contact-phone",
                expected_version=_version("contact-phone", data_dir),
                from_question=groups[0].question.id,
                kb=app.services.kb,
            )
        assert result.ok
        await asker.send("số điện thoại trung tâm khuyến công")
        assert "gặp chị Lan (phòng Tư vấn)" in asker.text
        assert "0235 3812 345" in asker.text  # the placeholder filled as before
        assert other_process.reload_if_changed(force=True) == []
        assert other_process.entry("contact-phone").answer == NEW_ANSWER  # type: ignore[union-attr]
        async with app.sessions() as session:
            audit = [(a.actor, a.action, a.subject) for a in await AuditRepo(session).list()]
            assert ("web:lan", "faq.edit", "faq:contact-phone") in audit
            assert (await UnansweredRepo(session).groups(0, 10))[0] == 0  # marked handled
    finally:
        await app.close()


async def test_import_and_export_through_the_service(db_url: str, data_dir: Path, tmp_path: Path):
    app = await build_app(make_settings(db_url, kb_path=data_dir))
    try:
        sheet = tmp_path / "faq.xlsx"
        async with app.sessions() as session, session.begin():
            count = await faq_editing.export_file(
                session, app.settings, sheet, actor="web:lan", now=datetime.now(UTC)
            )
        assert count == len(load_entries(data_dir)) and sheet.stat().st_mode & 0o077 == 0
        from openpyxl import load_workbook

        book = load_workbook(sheet)
        ws = book.active
        assert ws is not None
        for row in ws.iter_rows(min_row=2):
            if row[0].value == "contact-phone":
                row[4].value = NEW_ANSWER
            if row[0].value == "contact-hours":
                row[6].value = "ngày mai"
        book.save(sheet)
        async with app.sessions() as session, session.begin():
            bad = await faq_editing.import_file(
                session, app.settings, sheet, actor="web:lan", now=datetime.now(UTC)
            )
        assert bad.report is None
        assert any('entry "contact-hours"' in p and "reviewed" in p for p in bad.problems)
        assert "chị Lan" not in (data_dir / "contact.yaml").read_text(encoding="utf-8")
        for row in ws.iter_rows(min_row=2):
            if row[0].value == "contact-hours":
                row[6].value = "2026-12-01"
        book.save(sheet)
        async with app.sessions() as session, session.begin():
            good = await faq_editing.import_file(
                session,
                app.settings,
                sheet,
                actor="web:lan",
                now=datetime.now(UTC),
                kb=app.services.kb,
            )
        assert good.report is not None and good.report.changed == 2 and good.report.added == 0
        assert app.services.kb.entry("contact-phone").answer == NEW_ANSWER  # type: ignore[union-attr]
    finally:
        await app.close()


def test_moving_an_entry_to_another_topic_rewrites_both_files(data_dir: Path) -> None:
    result = editing.save_entry(
        data_dir,
        _form("contact-commune", data_dir, topic="collaborators"),
        today=TODAY,
        original_id="contact-commune",
    )
    assert result.ok
    topics = {e.id: e.topic for e in load_entries(data_dir)}
    assert topics["contact-commune"] == "collaborators"
    assert "contact-commune" not in (data_dir / "contact.yaml").read_text(encoding="utf-8")
    assert "id: contact-commune" in (data_dir / "collaborators.yaml").read_text(encoding="utf-8")
