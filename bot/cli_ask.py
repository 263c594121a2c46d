"""`kcbot ask` (answer questions from the knowledge base) and `kcbot kb unanswered`.

Kept light: the ask path imports only the knowledge package (no telegram, aiohttp or
SQLAlchemy), so a batch of a few hundred questions runs in well under a few seconds
including interpreter start-up.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

FALLBACK_TEXT = "Mình chưa chắc câu trả lời cho câu hỏi này."
SUGGEST_TEXT = "Có phải bạn muốn hỏi:"
NO_SUGGEST_TEXT = "Bạn thử hỏi lại ngắn gọn hơn, hoặc liên hệ cán bộ Trung tâm Khuyến công."


def register(root_subparsers: Any, kb_subparsers: Any) -> None:
    ask = root_subparsers.add_parser(
        "ask",
        help="answer a question from the knowledge base",
        description="Answer a question from the knowledge base (what the bot would say).",
    )
    ask.add_argument("question", nargs="*", help="the question (quote it)")
    ask.add_argument("--json", action="store_true", help="print one JSON object per question")
    ask.add_argument(
        "--batch",
        metavar="FILE",
        help="read one question per line from FILE ('-' = standard input)",
    )
    ask.set_defaults(func=cmd_ask)

    unanswered = kb_subparsers.add_parser(
        "unanswered", help="list questions the bot could not answer"
    )
    unanswered.add_argument("--json", action="store_true", help="one JSON object per line")
    unanswered.add_argument("--limit", type=int, default=100)
    unanswered.add_argument("--all", action="store_true", help="include resolved questions")
    unanswered.set_defaults(func=cmd_unanswered)


# --------------------------------------------------------------------------------------
# ask


def _placeholder_values(settings: Any) -> dict[str, str | None]:
    names = ("centre_name", "centre_phone", "centre_address", "centre_hours", "centre_email")
    return {name: getattr(settings, name, None) for name in names}


def _candidates(result: Any) -> list[dict[str, Any]]:
    return [
        {"id": c.entry_id, "topic": c.topic, "score": round(float(c.score), 4)}
        for c in result.candidates[:3]
    ]


def result_json(kb: Any, result: Any, values: dict[str, str | None]) -> dict[str, Any]:
    """The JSON shape of one answer (shared by --json and --batch)."""
    from knowledge.content import fill_placeholders

    if result.fallback or result.best is None:
        return {"fallback": True, "candidates": _candidates(result)}
    entry = kb.entry(result.best.entry_id)
    return {
        "fallback": False,
        "id": entry.id,
        "topic": entry.topic,
        "score": round(float(result.best.score), 4),
        "answer": fill_placeholders(entry.answer, values),
        "source": entry.source,
        "candidates": _candidates(result),
    }


def result_text(kb: Any, result: Any, values: dict[str, str | None]) -> str:
    from knowledge.content import fill_placeholders

    if result.fallback or result.best is None:
        lines = [FALLBACK_TEXT]
        titles = [kb.entry(c.entry_id).title for c in result.candidates[:3]]
        if titles:
            lines.append(SUGGEST_TEXT)
            lines.extend(f"• {t}" for t in titles)
        else:
            lines.append(NO_SUGGEST_TEXT)
        return "\n".join(lines)
    entry = kb.entry(result.best.entry_id)
    return f"{fill_placeholders(entry.answer, values)}\nNguồn: {entry.source}"


def _read_questions(spec: str) -> Iterable[str]:
    if spec == "-":
        return sys.stdin.read().splitlines()
    return Path(spec).read_text(encoding="utf-8").splitlines()


async def cmd_ask(args: argparse.Namespace, settings: Any) -> int:
    from knowledge.content import ContentError
    from knowledge.kb import KnowledgeBase

    if args.batch is None and not args.question:
        print('Hãy nhập câu hỏi, ví dụ: kcbot ask "khuyến công là gì"', file=sys.stderr)
        return 2
    try:
        kb = KnowledgeBase.load(getattr(settings, "kb_path", None))
    except ContentError as exc:
        print(f"Nội dung FAQ có lỗi: {exc}", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    values = _placeholder_values(settings)

    if args.batch is not None:
        try:
            questions = _read_questions(args.batch)
        except OSError as exc:
            print(f"Không đọc được tệp {args.batch}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        out: list[str] = []
        for question in questions:
            if not question.strip():
                obj: dict[str, Any] = {"fallback": True, "candidates": []}
            else:
                obj = result_json(kb, kb.answer(question), values)
            if args.json:
                out.append(json.dumps(obj, ensure_ascii=False))
            else:
                out.append(_batch_text(question, obj))
        sys.stdout.write("\n".join(out) + ("\n" if out else ""))
        return 0

    question = " ".join(args.question)
    result = kb.answer(question)
    if args.json:
        print(json.dumps(result_json(kb, result, values), ensure_ascii=False))
    else:
        print(result_text(kb, result, values))
    return 0


def _batch_text(question: str, obj: dict[str, Any]) -> str:
    """One tab-separated line per question when --batch is used without --json."""
    if obj["fallback"]:
        return f"{question}\tFALLBACK\t" + ",".join(c["id"] for c in obj["candidates"])
    return f"{question}\t{obj['id']}\t{obj['score']}"


# --------------------------------------------------------------------------------------
# kb unanswered


async def cmd_unanswered(args: argparse.Namespace, settings: Any) -> int:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from db.repos.faq import UnansweredRepo
    from db.session import create_engine, session_factory

    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            rows = await UnansweredRepo(session).list(limit=args.limit, include_resolved=args.all)
    except (OperationalError, ProgrammingError) as exc:
        print(
            "Không đọc được câu hỏi chưa trả lời (đã chạy `kcbot db upgrade` chưa?): "
            f"{exc.orig if hasattr(exc, 'orig') else exc}",
            file=sys.stderr,
        )
        return 2
    finally:
        await engine.dispose()

    if args.json:
        for row in rows:
            print(
                json.dumps(
                    {
                        "id": row.id,
                        "channel": row.channel,
                        "chat_id": row.chat_id,
                        "text": row.text,
                        "normalized": row.normalized,
                        "candidates": row.candidates,
                        "created_at": row.created_at.isoformat(),
                        "resolved": row.resolved,
                    },
                    ensure_ascii=False,
                )
            )
        return 0
    if not rows:
        print("Không có câu hỏi nào chưa được trả lời.")
        return 0
    from knowledge.formats import datetime_text

    for row in rows:
        when = datetime_text(row.created_at)
        near = ", ".join(c.get("id", "?") for c in (row.candidates or [])[:3]) or "-"
        mark = " (đã xử lý)" if row.resolved else ""
        # A listing line, not the record: --json gives the whole text.
        text = row.text if len(row.text) <= 200 else row.text[:199] + "…"
        print(f"#{row.id} {when} [{row.channel}] {text}{mark}\n    gần nhất: {near}")
    return 0
