"""The FAQ content and its loader: what staff see when they edit, import or export it."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from knowledge.content import (
    DEFAULT_DATA_DIR,
    MAX_ANSWER,
    TOPICS,
    ContentError,
    Entry,
    export_entries,
    export_json,
    fill_placeholders,
    import_entries,
    load_entries,
    write_entries,
)

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "khuyencong.md"
TOPICS_MD = Path(__file__).resolve().parents[2] / "shared" / "eval" / "topics.md"
FIGURE_RE = re.compile(r"(\d[\d.,]*)\s*(%|triệu|tỷ)")


@pytest.fixture(scope="module")
def shipped() -> list[Entry]:
    return load_entries()


# -- the shipped content ---------------------------------------------------------------


def test_shipped_content_loads_and_covers_every_topic(shipped: list[Entry]) -> None:
    assert len(shipped) >= 70
    per_topic = Counter(e.topic for e in shipped)
    assert set(per_topic) == set(TOPICS)
    assert all(count >= 2 for count in per_topic.values()), per_topic
    for topic in ("eligibility", "machinery", "application", "typical-products", "legal-basis"):
        assert per_topic[topic] >= 4, topic


def test_one_file_per_topic() -> None:
    import yaml

    assert {p.stem for p in DEFAULT_DATA_DIR.glob("*.yaml")} == set(TOPICS)
    for path in DEFAULT_DATA_DIR.glob("*.yaml"):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert {item["topic"] for item in raw} == {path.stem}


@pytest.mark.skipif(not TOPICS_MD.exists(), reason="topics.md not available")
def test_topics_match_the_evaluation_list() -> None:
    ids = set(re.findall(r"^\| ([a-z-]+) \|", TOPICS_MD.read_text(encoding="utf-8"), re.M))
    ids -= {"id", "---"}
    assert ids == set(TOPICS)


def test_entries_are_phone_friendly(shipped: list[Entry]) -> None:
    for e in shipped:
        assert 0 < len(e.answer) <= MAX_ANSWER, e.id
        assert len(e.title) <= 40, e.id
        assert 4 <= len(e.questions) <= 10, e.id
        assert e.source.strip(), e.id
        # Vietnamese with diacritics, not ASCII-only text.
        assert any(ord(ch) > 127 for ch in e.answer), e.id
        assert all(any(ord(ch) > 127 for ch in q) for q in e.questions), e.id


def test_no_hard_coded_contact_details(shipped: list[Entry]) -> None:
    phone = re.compile(r"\b0\d{2,3}[ .]?\d{3}[ .]?\d{3,4}\b")
    for e in shipped:
        assert not phone.search(e.answer), e.id
    contact = [e for e in shipped if e.topic == "contact"]
    assert all("{centre_phone}" in e.answer or "{centre_address}" in e.answer for e in contact)
    assert any("{centre_hours}" in e.answer for e in contact)


def test_never_names_a_specific_department_of_the_ministry(shipped: list[Entry]) -> None:
    for e in shipped:
        assert "Cục " not in e.answer, e.id


def test_superseded_levels_are_not_quoted(shipped: list[Entry]) -> None:
    # TTLT 26/2014 levels (machinery 200 triệu, demo model 500 triệu) are history only.
    for e in shipped:
        assert "200 triệu" not in e.answer and "500 triệu" not in e.answer, e.id


@pytest.mark.skipif(not REFERENCE.exists(), reason="reference fact base not available")
def test_money_and_percentages_come_from_the_reference(shipped: list[Entry]) -> None:
    def figures(text: str) -> set[tuple[str, str]]:
        return {(m.group(1).rstrip(".,"), m.group(2)) for m in FIGURE_RE.finditer(text)}

    known = figures(REFERENCE.read_text(encoding="utf-8"))
    invented = {(e.id, f"{n} {u}") for e in shipped for n, u in figures(e.answer) - known}
    assert not invented


def test_answers_use_only_known_placeholders(shipped: list[Entry]) -> None:
    values = {
        "centre_name": "Trung tâm Khuyến công tỉnh Thử",
        "centre_phone": "0200 000 000",
        "centre_address": "1 Đường Thử",
        "centre_hours": "8:00–17:00",
        "centre_email": "kc@example.vn",
    }
    for e in shipped:
        filled = fill_placeholders(e.answer, values)
        assert "{" not in filled and "}" not in filled, e.id


# -- placeholders ----------------------------------------------------------------------


def test_fill_placeholders_uses_values_and_falls_back() -> None:
    text = "Gọi {centre_name}: {centre_phone}, email {centre_email}, {centre_address}."
    filled = fill_placeholders(
        text, {"centre_name": "Trung tâm Khuyến công Lâm Đồng", "centre_phone": "0263 123 456"}
    )
    assert filled == (
        "Gọi Trung tâm Khuyến công Lâm Đồng: 0263 123 456, email chưa cập nhật, chưa cập nhật."
    )
    assert fill_placeholders("{centre_name}", {"centre_name": None}) == "Trung tâm Khuyến công tỉnh"
    assert fill_placeholders("{centre_phone}", {"centre_phone": "  "}) == "chưa cập nhật"


# -- validation messages ---------------------------------------------------------------

GOOD = """\
- id: a-one
  topic: machinery
  title: Mục một
  questions:
    - Câu hỏi một về a-one?
    - Câu hỏi hai về a-one?
  answer: Trả lời một. Gọi {centre_phone}.
  source: Thông tư 28/2018/TT-BTC
  reviewed: 2026-11-24
"""


def _problems(tmp_path: Path, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(ContentError) as info:
        load_entries(tmp_path)
    return info.value.problems


def test_good_minimal_file_loads(tmp_path: Path) -> None:
    (tmp_path / "machinery.yaml").write_text(GOOD, encoding="utf-8")
    [entry] = load_entries(tmp_path)
    assert entry == Entry(
        id="a-one",
        topic="machinery",
        title="Mục một",
        questions=("Câu hỏi một về a-one?", "Câu hỏi hai về a-one?"),
        answer="Trả lời một. Gọi {centre_phone}.",
        source="Thông tư 28/2018/TT-BTC",
        reviewed=date(2026, 11, 24),
        related=(),
    )


def test_duplicate_id_across_files(tmp_path: Path) -> None:
    problems = _problems(tmp_path, {"machinery.yaml": GOOD, "training.yaml": GOOD})
    assert problems == [
        'training.yaml: entry "a-one" field "id": duplicate id, already used at '
        'machinery.yaml: entry "a-one"'
    ]


def test_unknown_topic_missing_answer_and_too_long_answer(tmp_path: Path) -> None:
    text = (
        GOOD.replace("topic: machinery", "topic: machines")
        + GOOD.replace("a-one", "a-two").replace("  answer: Trả lời một. Gọi {centre_phone}.\n", "")
        + GOOD.replace("a-one", "a-three").replace("Trả lời một.", "x" * 901)
    )
    problems = _problems(tmp_path, {"machinery.yaml": text})
    assert 'machinery.yaml: entry "a-one" field "topic": unknown topic "machines"' in problems
    assert 'machinery.yaml: entry "a-two" field "answer": missing' in problems
    assert any(
        p.startswith('machinery.yaml: entry "a-three" field "answer": longer than 900 characters')
        for p in problems
    )
    assert len(problems) == 3


def test_bad_related_placeholder_title_id_and_date(tmp_path: Path) -> None:
    text = (
        GOOD
        + "  related: [a-one, nowhere]\n"
        + GOOD.replace("a-one", "Bad_Id")
        + GOOD.replace("a-one", "a-four")
        .replace("{centre_phone}", "{phone}")
        .replace("Mục một", "T" * 41)
        .replace("2026-11-24", "hôm qua")
    )
    problems = _problems(tmp_path, {"machinery.yaml": text})
    assert 'machinery.yaml: entry "a-one" field "related": refers to itself' in problems
    assert 'machinery.yaml: entry "a-one" field "related": unknown entry id "nowhere"' in problems
    assert any(p.startswith('machinery.yaml: entry "Bad_Id" field "id"') for p in problems)
    assert any(
        p.startswith('machinery.yaml: entry "a-four" field "answer": unknown placeholder {phone}')
        for p in problems
    )
    assert any(
        p.startswith('machinery.yaml: entry "a-four" field "title": longer than 40')
        for p in problems
    )
    assert any(
        p.startswith('machinery.yaml: entry "a-four" field "reviewed": not a date')
        for p in problems
    )


def test_missing_id_is_named_by_position_and_unknown_field_reported(tmp_path: Path) -> None:
    text = GOOD + GOOD.replace("- id: a-one\n  topic", "- topic").replace("source:", "sauce:")
    problems = _problems(tmp_path, {"machinery.yaml": text})
    assert 'machinery.yaml: entry #2 field "id": missing' in problems
    assert any(
        p.startswith('machinery.yaml: entry #2 field "sauce": unknown field') for p in problems
    )
    assert 'machinery.yaml: entry #2 field "source": missing' in problems


def test_literal_braces_and_empty_questions(tmp_path: Path) -> None:
    text = GOOD.replace("Trả lời một.", "Dùng {  } và }").replace(
        "questions:\n    - Câu hỏi một về a-one?\n    - Câu hỏi hai về a-one?", "questions: []"
    )
    problems = _problems(tmp_path, {"machinery.yaml": text})
    assert 'machinery.yaml: entry "a-one" field "questions": empty' in problems
    assert any('field "answer": unknown placeholder' in p for p in problems)
    assert any('field "answer": unmatched brace' in p for p in problems)


def test_same_question_in_two_entries(tmp_path: Path) -> None:
    second = GOOD.replace("- id: a-one", "- id: a-two").replace("hai về", "HAI VỀ")
    problems = _problems(tmp_path, {"machinery.yaml": GOOD + second})
    assert problems == [
        'machinery.yaml: entry "a-two" field "questions": question "Câu hỏi một về a-one?" '
        'is also in entry "a-one"',
        'machinery.yaml: entry "a-two" field "questions": question "Câu hỏi HAI VỀ a-one?" '
        'is also in entry "a-one"',
    ]


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    broken = GOOD.replace("  title: Mục một\n", "  title: [Mục một\n")
    problems = _problems(
        tmp_path, {"machinery.yaml": GOOD.replace("a-one", "ok"), "x.yaml": broken}
    )
    assert len(problems) == 1
    assert re.match(r"x\.yaml: line \d+ YAML syntax error", problems[0]), problems


def test_duplicate_key_in_one_entry_is_reported(tmp_path: Path) -> None:
    problems = _problems(tmp_path, {"machinery.yaml": GOOD + "  answer: Lần hai\n"})
    assert len(problems) == 1
    assert problems[0].startswith("machinery.yaml: line 10 YAML syntax error")
    assert "answer" in problems[0]


def test_not_a_list_and_missing_directory(tmp_path: Path) -> None:
    problems = _problems(tmp_path, {"machinery.yaml": "id: a-one\n"})
    assert problems == [
        "machinery.yaml: must be a YAML list of entries (each starting with '- id:')"
    ]
    with pytest.raises(ContentError, match="no such file"):
        load_entries(tmp_path / "nowhere")


def test_content_error_lists_every_problem() -> None:
    error = ContentError(["a", "b", "c", "d"])
    assert error.problems == ["a", "b", "c", "d"]
    assert "4 lỗi" in str(error)


# -- spreadsheets, YAML writing and JSON -------------------------------------------------


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_spreadsheet_round_trip(shipped: list[Entry], tmp_path: Path, suffix: str) -> None:
    first = tmp_path / f"kb{suffix}"
    export_entries(shipped, first)
    imported = import_entries(first)
    assert imported == shipped
    second = tmp_path / f"kb2{suffix}"
    export_entries(imported, second)
    assert import_entries(second) == shipped


def test_csv_is_excel_friendly(shipped: list[Entry], tmp_path: Path) -> None:
    path = tmp_path / "kb.csv"
    export_entries(shipped[:2], path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0] == "id,topic,title,questions,answer,source,reviewed,related"
    assert " | ".join(shipped[0].questions) in text


def test_xlsx_puts_one_question_per_line(shipped: list[Entry], tmp_path: Path) -> None:
    from openpyxl import load_workbook

    path = tmp_path / "kb.xlsx"
    export_entries(shipped[:1], path)
    sheet = load_workbook(path).worksheets[0]
    assert [c.value for c in sheet[1]] == [
        "id", "topic", "title", "questions", "answer", "source", "reviewed", "related",
    ]  # fmt: skip
    assert sheet["D2"].value == "\n".join(shipped[0].questions)
    assert sheet["H2"].value == ";".join(shipped[0].related)


def test_import_errors_name_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "kb.csv"
    path.write_text(
        "id,topic,title,questions,answer,source,reviewed,related\n"
        "a-one,machinery,Mục một,Câu một? | Câu hai?,Trả lời.,TT 28/2018/TT-BTC,2026-11-24,\n"
        "a-two,machines,Mục hai,Câu ba?,,TT 28/2018/TT-BTC,24/11/2026,a-nine\n",
        encoding="utf-8-sig",
    )
    with pytest.raises(ContentError) as info:
        import_entries(path)
    problems = info.value.problems
    assert 'kb.csv: row 3 (entry "a-two") column "topic": unknown topic "machines"' in problems
    assert 'kb.csv: row 3 (entry "a-two") column "answer": missing' in problems
    assert any(
        p.startswith('kb.csv: row 3 (entry "a-two") column "reviewed": not a date')
        for p in problems
    )
    assert 'kb.csv: row 3 (entry "a-two") column "related": unknown entry id "a-nine"' in problems


def test_import_rejects_missing_columns_and_other_files(tmp_path: Path) -> None:
    path = tmp_path / "kb.csv"
    path.write_text("id,topic,title\n", encoding="utf-8")
    with pytest.raises(ContentError) as info:
        import_entries(path)
    assert info.value.problems[0].startswith('kb.csv: row 1: missing column "questions"')
    other = tmp_path / "kb.txt"
    other.write_text("x", encoding="utf-8")
    with pytest.raises(ContentError, match="unsupported file type"):
        import_entries(other)


def test_write_entries_gives_readable_yaml_that_loads_back(
    shipped: list[Entry], tmp_path: Path
) -> None:
    (tmp_path / "stale.yaml").write_text("[]\n", encoding="utf-8")
    write_entries(shipped, tmp_path)
    assert {p.stem for p in tmp_path.glob("*.yaml")} == {e.topic for e in shipped}

    def by_id(entries: list[Entry]) -> list[Entry]:
        return sorted(entries, key=lambda e: e.id)

    assert by_id(load_entries(tmp_path)) == by_id(shipped)
    text = (tmp_path / "machinery.yaml").read_text(encoding="utf-8")
    assert "Mức hỗ trợ máy móc thiết bị" in text  # not \u escapes
    assert "  answer: |" in text
    assert not list(tmp_path.glob("*.tmp"))


def test_export_json_shape(shipped: list[Entry]) -> None:
    data = export_json(shipped)
    assert len(data) == len(shipped)
    first = data[0]
    assert set(first) == {
        "id",
        "topic",
        "title",
        "questions",
        "answer",
        "source",
        "reviewed",
        "related",
    }
    assert first["reviewed"] == shipped[0].reviewed.isoformat()
    assert isinstance(first["questions"], list)


LONG_CENTRE = "Trung tâm Khuyến công và Tư vấn phát triển công nghiệp tỉnh Thừa Thiên Huế mở rộng"


def test_answers_as_the_user_sees_them_fit_a_phone_screen(shipped: list[Entry]) -> None:
    """Placeholders filled with a long centre name and the source line included, every
    answer stays under 900 characters (what the chat really shows)."""
    values = {
        "centre_name": LONG_CENTRE,
        "centre_phone": "0234 3 822 123 – 0914 123 456",
        "centre_address": "Số 12 đường Trần Phú, phường Thuận Hóa, thành phố Huế",
        "centre_hours": "Thứ Hai–Thứ Sáu, 7:30–11:30 và 13:30–17:00",
        "centre_email": "khuyencong.trungtam@congthuong.example.gov.vn",
    }
    too_long = []
    for e in shipped:
        seen = f"{fill_placeholders(e.answer, values).strip()}\n\n📄 Nguồn: {e.source}"
        if len(seen) >= MAX_ANSWER:
            too_long.append((e.id, len(seen)))
    assert too_long == []


def test_no_answer_opens_with_a_bare_yes_no_for_a_question_that_is_not_one(
    shipped: list[Entry],
) -> None:
    from handlers.faq import answer_opening, asks_yes_no

    for e in shipped:
        if e.answer.startswith(("Có.", "Không.")):
            shown = answer_opening(e.answer, "cách làm thế nào", e.questions[0])
            assert not shown.startswith(("Có.", "Không.")), e.id
            if asks_yes_no(e.questions[0]):
                kept = answer_opening(e.answer, e.questions[0], e.questions[0])
                assert kept.startswith(("Có.", "Không.")), e.id
