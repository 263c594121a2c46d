"""`kcbot ask`: the shapes other tools read (text, --json, --batch)."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot import cli_ask

CONTENT = """\
- id: overview-what-is
  topic: overview
  title: Khuyến công là gì?
  questions:
    - Khuyến công là gì vậy?
    - Khuyến công nghĩa là sao
  answer: Khuyến công là chính sách hỗ trợ cơ sở công nghiệp nông thôn.
  source: Nghị định 45/2012/NĐ-CP
  reviewed: 2026-11-24
- id: machinery-level
  topic: machinery
  title: Hỗ trợ máy móc thiết bị
  questions:
    - Mua máy móc thiết bị được hỗ trợ bao nhiêu tiền
    - Hỗ trợ đầu tư máy móc tiên tiến
  answer: Mức hỗ trợ do Nhà nước quy định.
  source: Thông tư 28/2018/TT-BTC
  reviewed: 2026-11-24
- id: contact-phone
  topic: contact
  title: Số điện thoại Trung tâm
  questions:
    - Số điện thoại cán bộ khuyến công
    - Liên hệ trung tâm khuyến công
  answer: Gọi {centre_name} qua số {centre_phone}.
  source: Trung tâm Khuyến công
  reviewed: 2026-11-24
"""


@pytest.fixture
def settings(tmp_path: Path) -> SimpleNamespace:
    data = tmp_path / "data"
    data.mkdir()
    (data / "faq.yaml").write_text(CONTENT, encoding="utf-8")
    return SimpleNamespace(
        kb_path=data,
        centre_name="Trung tâm Khuyến công tỉnh Thử Nghiệm",
        centre_phone="0235 3812 345",
        centre_address=None,
        centre_hours="7:30–17:00",
        centre_email=None,
    )


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="kcbot")
    root = parser.add_subparsers(dest="command")
    kb = root.add_parser("kb").add_subparsers(dest="kb_command")
    cli_ask.register(root, kb)
    return parser.parse_args(list(argv))


def run(settings: SimpleNamespace, *argv: str) -> int:
    args = parse(*argv)
    return asyncio.run(args.func(args, settings))


def test_text_answer_with_source(settings, capsys) -> None:  # type: ignore[no-untyped-def]
    assert run(settings, "ask", "khuyen cong la gi") == 0
    out = capsys.readouterr().out
    assert "Khuyến công là chính sách hỗ trợ" in out
    assert out.rstrip().splitlines()[-1] == "Nguồn: Nghị định 45/2012/NĐ-CP"


def test_text_placeholders_filled(settings, capsys) -> None:  # type: ignore[no-untyped-def]
    assert run(settings, "ask", "sdt can bo kc") == 0
    out = capsys.readouterr().out
    assert "Gọi Trung tâm Khuyến công tỉnh Thử Nghiệm qua số 0235 3812 345." in out
    assert "{" not in out


def test_text_fallback(settings, capsys) -> None:  # type: ignore[no-untyped-def]
    assert run(settings, "ask", "thời tiết hôm nay thế nào") == 0
    out = capsys.readouterr().out
    assert out.startswith("Mình chưa chắc")


def test_json_answer_shape(settings, capsys) -> None:  # type: ignore[no-untyped-def]
    assert run(settings, "ask", "--json", "mua máy móc được hỗ trợ bao nhiêu") == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert set(obj) == {"fallback", "id", "topic", "score", "answer", "source", "candidates"}
    assert obj["fallback"] is False
    assert obj["id"] == "machinery-level" and obj["topic"] == "machinery"
    assert 0.0 <= obj["score"] <= 1.0
    assert obj["source"] == "Thông tư 28/2018/TT-BTC"
    assert obj["candidates"][0] == {
        "id": "machinery-level",
        "topic": "machinery",
        "score": obj["score"],
    }
    assert 1 <= len(obj["candidates"]) <= 3
    for c in obj["candidates"]:
        assert set(c) == {"id", "topic", "score"}
    assert "Thông tư" in lines[0]  # ensure_ascii=False


def test_json_fallback_shape(settings, capsys) -> None:  # type: ignore[no-untyped-def]
    assert run(settings, "ask", "--json", "cách làm bánh mì") == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["fallback"] is True
    assert set(obj) == {"fallback", "candidates"}
    assert len(obj["candidates"]) <= 3


def test_batch_keeps_line_alignment(settings, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    questions = ["khuyến công là gì", "", "giá vàng hôm nay", "   ", "sdt can bo kc"]
    path = tmp_path / "q.txt"
    path.write_text("\n".join(questions) + "\n", encoding="utf-8")
    assert run(settings, "ask", "--json", "--batch", str(path)) == 0
    objs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(objs) == len(questions)
    assert objs[0]["id"] == "overview-what-is"
    assert objs[1] == {"fallback": True, "candidates": []}
    assert objs[2]["fallback"] is True
    assert objs[3] == {"fallback": True, "candidates": []}
    assert objs[4]["id"] == "contact-phone"
    assert "0235 3812 345" in objs[4]["answer"]


def test_batch_from_stdin(settings, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sys, "stdin", io.StringIO("kc la gi\nho tro may moc\n"))
    assert run(settings, "ask", "--json", "--batch", "-") == 0
    objs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o.get("id") for o in objs] == ["overview-what-is", "machinery-level"]


def test_broken_content_is_reported(settings, capsys) -> None:  # type: ignore[no-untyped-def]
    (settings.kb_path / "faq.yaml").write_text("- id: [broken\n", encoding="utf-8")
    assert run(settings, "ask", "khuyen cong la gi") == 2
    assert "lỗi" in capsys.readouterr().err


def test_no_question(settings, capsys) -> None:  # type: ignore[no-untyped-def]
    assert run(settings, "ask") == 2


def test_ask_path_imports_stay_light() -> None:
    import subprocess

    code = (
        "import sys, asyncio, argparse\n"
        "from bot import cli_ask\n"
        "import knowledge.kb, knowledge.matcher, knowledge.content\n"
        "bad = [m for m in ('telegram', 'aiohttp', 'sqlalchemy') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    ).stdout.strip()
    assert out == ""


# --------------------------------------------------------------------------------------
# The KnowledgeBase service behind `ask` (and the bot): lookups and hot reload.


def test_kb_lookups(settings) -> None:  # type: ignore[no-untyped-def]
    from knowledge.kb import KnowledgeBase

    kb = KnowledgeBase.load(settings.kb_path)
    assert kb.entry("machinery-level") is not None
    assert kb.entry("nope") is None
    assert [e.id for e in kb.entries_by_topic("contact")] == ["contact-phone"]
    result = kb.answer("khuyến công là gì")
    assert result.best is not None and result.best.entry_id == "overview-what-is"


def test_kb_reload_on_change_and_keeps_last_good(settings) -> None:  # type: ignore[no-untyped-def]
    import os

    from knowledge.kb import KnowledgeBase

    kb = KnowledgeBase.load(settings.kb_path)
    path = settings.kb_path / "faq.yaml"
    assert kb.reload_if_changed(force=True) == []  # nothing changed

    extra = CONTENT + (
        "- id: ocop-what\n  topic: ocop\n  title: OCOP là gì\n  questions:\n"
        "    - Chương trình OCOP là gì\n  answer: OCOP là Mỗi xã một sản phẩm.\n"
        "  source: QĐ 919/QĐ-TTg\n  reviewed: 2026-11-24\n"
    )
    path.write_text(extra, encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse file systems
    assert kb.reload_if_changed() == []  # throttled: checked moments ago
    assert kb.entry("ocop-what") is None
    assert kb.reload_if_changed(force=True) == []
    assert kb.entry("ocop-what") is not None

    path.write_text("- id: [broken\n", encoding="utf-8")
    problems = kb.reload_if_changed(force=True)
    assert problems and "YAML" in problems[0]
    assert kb.problems == problems
    # Still serving the last good content.
    assert kb.entry("ocop-what") is not None
    assert not kb.answer("khuyến công là gì").fallback
    # Broken files are not parsed (or reported) again until they change.
    assert kb.reload_if_changed(force=True) == []

    path.write_text(CONTENT, encoding="utf-8")
    os.utime(path, ns=(2, 2))
    assert kb.reload_if_changed(force=True) == []
    assert kb.entry("ocop-what") is None and kb.problems == []
