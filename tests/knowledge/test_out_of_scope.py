"""The out-of-scope decision as the staff CLI and a user in the chat see it: everyday
subjects that share the programme's words are refused, khuyến công questions near them are
answered, and the list of three offers different subjects."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot import cli_ask
from knowledge.content import DEFAULT_DATA_DIR
from tests.auxil.app import ChatUser


@pytest.fixture
def settings() -> SimpleNamespace:
    return SimpleNamespace(
        kb_path=Path(DEFAULT_DATA_DIR),
        centre_name="Trung tâm Khuyến công tỉnh Thử Nghiệm",
        centre_phone="0235 3812 345",
        centre_address=None,
        centre_hours="7:30–17:00",
        centre_email=None,
    )


def ask_json(settings: SimpleNamespace, capsys, question: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    parser = argparse.ArgumentParser(prog="kcbot")
    root = parser.add_subparsers(dest="command")
    kb = root.add_parser("kb").add_subparsers(dest="kb_command")
    cli_ask.register(root, kb)
    args = parser.parse_args(["ask", "--json", question])
    assert asyncio.run(args.func(args, settings)) == 0
    obj: dict = json.loads(capsys.readouterr().out)  # type: ignore[type-arg]
    return obj


@pytest.mark.parametrize(
    "question",
    [
        "đăng ký thường trú cho con",
        "hồ sơ xin việc gồm những gì",
        "ho tro tien hoc cho con ho ngheo",
        "thu tuc lam can cuoc cong dan",
    ],
)
def test_cli_refuses_everyday_subjects(settings, capsys, question: str) -> None:  # type: ignore[no-untyped-def]
    obj = ask_json(settings, capsys, question)
    assert obj["fallback"] is True


def test_cli_answers_a_khuyen_cong_question_near_an_everyday_subject(settings, capsys) -> None:  # type: ignore[no-untyped-def]
    obj = ask_json(settings, capsys, "hoc nghe co duoc ho tro hoc phi khong")
    assert obj["fallback"] is False and obj["topic"] == "training"


def test_cli_candidates_are_of_different_topics(settings, capsys) -> None:  # type: ignore[no-untyped-def]
    obj = ask_json(settings, capsys, "hỗ trợ bao nhiêu phần trăm")
    topics = [c["topic"] for c in obj["candidates"]]
    assert len(topics) == 3 and len(set(topics)) == 3


async def test_chat_refuses_an_everyday_subject_and_keeps_it_for_staff(app) -> None:  # type: ignore[no-untyped-def]
    from db.repos.faq import UnansweredRepo

    user = ChatUser(app)
    await user.send("dang ky thuong tru cho con o dau")
    assert "chỉ trả lời được câu hỏi về khuyến công" in user.text
    assert "✍️ Hỏi cán bộ" in user.labels
    assert not any(p.startswith("faq:e:") for p in user.payloads)  # no unrelated entries
    async with app.sessions() as session:
        stored = [q.text for q in await UnansweredRepo(session).list()]
    assert stored == ["dang ky thuong tru cho con o dau"]


async def test_chat_answers_energy_saving_although_it_names_electricity(app) -> None:  # type: ignore[no-untyped-def]
    user = ChatUser(app)
    await user.send("tiết kiệm tiền điện cho xưởng có được hỗ trợ không")
    assert "Nguồn:" in user.text
    assert "chỉ trả lời được" not in user.text
