"""The labelled questions the matcher learns from: well-formed, about the content's topics,
one line per question as the matcher reads it, and never a line of an evaluation file."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.content import load_entries
from knowledge.labelled import DEFAULT_LABELLED, LabelledQuestion, read_labelled
from knowledge.normalize import tokens

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT.parent / "shared" / "eval" / "faq-dev.tsv"


def _key(question: str) -> str:
    return " ".join(tokens(question))


@pytest.fixture(scope="module")
def labelled() -> list[LabelledQuestion]:
    return read_labelled(DEFAULT_LABELLED)


def test_every_label_names_a_topic_of_the_content(labelled) -> None:  # type: ignore[no-untyped-def]
    topics = {e.topic for e in load_entries()}
    named = {t for q in labelled for t in q.topics}
    assert named <= topics, f"labels without a topic in the content: {sorted(named - topics)}"
    assert {q.variant for q in labelled} <= {"accent", "noaccent", "teencode"}
    assert sum(q.oos for q in labelled) >= 300 and sum(not q.oos for q in labelled) >= 1500


def test_one_line_per_question_as_the_matcher_reads_it(labelled) -> None:  # type: ignore[no-untyped-def]
    keys = [_key(q.question) for q in labelled]
    assert all(keys), "an empty question"
    assert len(keys) == len(set(keys))


def test_no_line_of_an_evaluation_file_or_an_entry_is_learned(labelled) -> None:  # type: ignore[no-untyped-def]
    keys = {_key(q.question) for q in labelled}
    for e in load_entries():
        for q in (*e.questions, e.title):
            assert _key(q) not in keys, q
    files = [ROOT / "bench" / "oos_extra.tsv", ROOT / "bench" / "blind_test.tsv"]
    if DEV.exists():
        files.append(DEV)
    for path in files:
        for line in read_labelled(path):
            assert _key(line.question) not in keys, f"{path.name}: {line.question}"


def test_a_malformed_line_is_reported_with_its_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "labelled.tsv"
    bad.write_text("# comment\nmột câu hỏi không có nhãn\n", encoding="utf-8")
    with pytest.raises(ValueError, match="labelled.tsv"):
        read_labelled(bad)
