"""Questions and answers: free text → the best entry with its source, or an honest
"not sure" with the closest topics, a way to reach staff, and the question kept for staff.

Before the knowledge base: a question that names a feature («làm hồ sơ», «tắt nhắc lịch»,
«gặp cán bộ») opens that feature through its button actions, and a question about dates
(«hội chợ nào sắp tới») is answered from the events table. A short follow-up within
``FOLLOWUP_WINDOW`` of an answer is read together with that answer's topic. Every answer
carries 👍/👎; 👎 offers the next candidates and staff, and is kept for staff.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.types import Button, Reply
from handlers.base import Context, Feature, Services, button
from knowledge.normalize import tokens

if TYPE_CHECKING:
    from knowledge.content import Entry
    from knowledge.kb import KnowledgeBase
    from knowledge.matcher import MatchResult

log = logging.getLogger(__name__)

NAME = "faq"

NOT_READY = (
    "Phần hỏi đáp đang tạm dừng để cập nhật nội dung. Bạn liên hệ cán bộ Trung tâm giúp mình nhé."
)
NOT_SURE = "Mình chưa chắc hiểu đúng câu hỏi của bạn 🤔"
NOT_SURE_PICK = "Có phải bạn muốn hỏi một trong các ý sau? Hoặc gửi câu hỏi cho cán bộ."
NOT_SURE_NONE = "Bạn thử hỏi cách khác, xem theo chủ đề, hoặc gửi câu hỏi cho cán bộ."
BROWSE = "Bạn muốn tìm hiểu về chủ đề nào?"
OUT_OF_SCOPE = (
    "Mình chỉ trả lời được câu hỏi về khuyến công: ai được hỗ trợ, hỗ trợ gì, bao nhiêu, "
    "làm hồ sơ thế nào. Bạn xem theo chủ đề, hoặc gửi câu hỏi cho cán bộ nhé."
)
TOO_VAGUE = (
    "Bạn muốn hỏi cụ thể điều gì? Chọn một câu bên dưới, hoặc gõ rõ hơn "
    "(ví dụ: «hỗ trợ máy móc bao nhiêu tiền»)."
)
# A question of this many words or fewer is answered only when the match is near certain
# and the question is all but one of the entry's own phrasings («khuyến công»), not a word
# many entries share («cnnt», «hỗ trợ»).
SHORT_QUESTION = 2
SURE_FOR_SHORT = 0.95
# Browsing: topics in a few groups, so that no screen shows more than a handful of buttons.
TOPIC_GROUPS: list[tuple[str, tuple[str, ...]]] = [
    ("📘 Chính sách chung", ("overview", "legal-basis", "eligibility", "funding")),
    (
        "🛠️ Nội dung hỗ trợ",
        ("machinery", "demo-model", "training", "management", "cleaner-production", "digital"),
    ),
    ("🤝 Tư vấn, liên kết, thông tin", ("consulting", "linkage", "information")),
    ("🏆 Sản phẩm và thị trường", ("typical-products", "trade-fairs", "showroom", "ocop")),
    ("📝 Hồ sơ, thủ tục", ("application", "acceptance")),
    ("☎️ Liên hệ, cộng tác viên", ("contact", "collaborators")),
]
# Questions kept for staff are cut here: enough to understand, small to store.
MAX_STORED = 1000

# --- follow-ups ---------------------------------------------------------------------
FOLLOWUP_WINDOW = timedelta(minutes=10)
# A question of at most this many words may be a follow-up of the previous answer.
FOLLOWUP_MAX_WORDS = 8
# A short question that matches this well on its own is not read as a follow-up, unless
# it starts like one («thế còn …», «còn … thì sao»).
SELF_CONTAINED = 0.8
# Candidates of different topics within this of the best: the question alone is generic.
GENERIC_SPREAD = 0.1
# Two candidates of different topics closer than this: ask which one.
CLOSE = 0.03
_FOLLOWUP_STARTS = (("the", "con"), ("con",), ("vay", "con"), ("vay", "thi"), ("the", "thi"))
ASK_WHICH = "Bạn hỏi ý nào?"

# --- feedback -----------------------------------------------------------------------
THANKS_UP = "Cảm ơn bạn! 😊"
THANKS_DOWN = "Cảm ơn bạn đã báo, mình đã ghi lại để cán bộ xem."
NEXT_PICK = "Có phải bạn muốn hỏi một trong các ý sau? Hoặc hỏi cán bộ."
NEXT_NONE = "Bạn thử hỏi cách khác, hoặc gửi câu hỏi cho cán bộ."

# --- questions that name a feature ----------------------------------------------------
# (folded phrase, feature, action); the first whose phrase is in the question wins.
FEATURE_PHRASES: tuple[tuple[tuple[str, ...], str, str], ...] = tuple(
    (tuple(phrase.split()), feature, action)
    for phrase, feature, action in (
        ("ho so cua toi", "intake", "mine"),
        ("ho so cua em", "intake", "mine"),
        ("ho so cua minh", "intake", "mine"),
        ("ho so da lam", "intake", "mine"),
        ("ho so da nop", "intake", "mine"),
        ("xem ho so", "intake", "mine"),
        ("lam ho so", "intake", "open"),
        ("tao ho so", "intake", "open"),
        ("lap ho so", "intake", "open"),
        ("tat nhac", "reminders", "stop"),
        ("huy nhac", "reminders", "stop"),
        ("dung nhac", "reminders", "stop"),
        ("bat nhac", "reminders", "sub"),
        ("nhac lich", "reminders", "open"),
        ("su kien sap toi", "reminders", "list"),
        ("gap can bo", "tickets", "open"),
        ("gap nguoi that", "tickets", "open"),
        ("noi chuyen voi nguoi", "tickets", "open"),
        ("gap nhan vien", "tickets", "open"),
        ("lien he can bo", "tickets", "open"),
    )
)
# Words that make it a question about the subject, not a request for the feature.
_QUESTION_PHRASES = (
    ("the", "nao"),
    ("ra", "sao"),
    ("gi",),
    ("o", "dau"),
    ("bao", "nhieu"),
    ("bao", "lau"),
    ("khi", "nao"),
    ("bao", "gio"),
    ("can", "gi"),
    ("can", "nhung"),
    ("gom",),
    ("mau",),
    ("thu", "tuc"),
    ("co", "phai"),
)
# Besides the phrase, a feature request holds only such words («cho em làm hồ sơ với»).
_REQUEST_WORDS = frozenset(
    " ".join(
        (
            "a ah anh ban cho co chi chut dc duoc em giup gium ho khong ko lai luon minh moi",
            "muon nha nhe oi ok toi tui vay voi xin that ngay bay gio ad lich nhac den dau roi xem",
        )
    ).split()
)


def _label_of_topics() -> dict[str, str]:
    from knowledge.content import TOPICS

    return dict(TOPICS)


class FaqFeature(Feature):
    name = NAME

    def _kb(self, ctx: Context) -> KnowledgeBase | None:
        kb = ctx.services.kb
        if kb is None:
            return None
        problems = kb.reload_if_changed()
        if problems:
            log.error(
                "knowledge base not reloaded, still serving the last good content: %s",
                "; ".join(problems[:5]),
            )
        return kb

    # --- buttons -------------------------------------------------------------------

    async def on_button(self, ctx: Context, action: str, arg: str) -> list[Reply]:
        kb = self._kb(ctx)
        if action in ("ask_staff", "cancel_staff"):
            # Questions for staff are the tickets feature's (human handoff).
            tickets = ctx.router.get("tickets")
            if tickets is not None and action == "ask_staff":
                return await tickets.on_button(ctx, "open", "")
            from handlers.menu import main_menu

            ctx.finish()
            return [main_menu("Bạn cần gì thêm?")]
        if kb is None:
            return [self._not_ready(ctx)]
        if action == "open":
            return [self._browse()]
        if action == "g":
            return [self._group(arg)]
        if action == "t":
            return [self._topic(kb, arg)]
        if action == "e":
            entry = kb.entry(arg)
            if entry is None:
                return await ctx.router.stale_button(ctx)
            return [await self._give(ctx, kb, entry, entry.title, [])]
        if action == "up":
            await self._feedback(ctx, arg, "up")
            return [Reply(THANKS_UP)]
        if action == "down":
            return [await self._disliked(ctx, kb, arg)]
        return await ctx.router.stale_button(ctx)

    def _browse(self) -> Reply:
        rows = [[button(label, NAME, "g", str(i))] for i, (label, _) in enumerate(TOPIC_GROUPS)]
        rows.append([button("🏠 Menu", "menu", "home")])
        return Reply(BROWSE, buttons=rows)

    def _group(self, index: str) -> Reply:
        if not index.isdigit() or int(index) >= len(TOPIC_GROUPS):
            return self._browse()
        label, topics = TOPIC_GROUPS[int(index)]
        names = _label_of_topics()
        rows = [[button(names[t], NAME, "t", t)] for t in topics if t in names]
        rows.append([button("⬅️ Nhóm khác", NAME, "open"), button("🏠 Menu", "menu", "home")])
        return Reply(f"{label}: bạn chọn chủ đề.", buttons=rows)

    def _topic(self, kb: KnowledgeBase, topic: str) -> Reply:
        entries = kb.entries_by_topic(topic)
        label = _label_of_topics().get(topic)
        if not entries or label is None:
            return self._browse()
        rows = [[button(e.title, NAME, "e", e.id)] for e in entries[:12]]
        rows.append([button("⬅️ Chủ đề khác", NAME, "open"), button("🏠 Menu", "menu", "home")])
        return Reply(f"{label}: bạn chọn câu hỏi bên dưới.", buttons=rows)

    # --- free text -----------------------------------------------------------------

    async def on_text(self, ctx: Context) -> list[Reply]:
        if ctx.state.dialogue == NAME:
            ctx.finish()
        question = ctx.text
        routed = await self._feature_request(ctx, question)
        if routed is not None:
            return routed
        kb = self._kb(ctx)
        if kb is None:
            return [self._not_ready(ctx)]
        events = await self._events_answer(ctx, question)
        if events is not None:
            return [events]
        decision = decide(kb, question, self._previous(ctx, kb))
        result = decision.result
        if decision.ask:
            rows = self._candidate_rows(kb, decision.ask)
            return [Reply(ASK_WHICH, buttons=self._fallback_rows(rows))]
        if result.reason in ("no domain term", "off topic", "out-of-scope words"):
            await self._store_unanswered(ctx, question, result.candidates)
            # An entry that tells the two apart ("khuyến công khác khuyến nông") is offered.
            related = [kb.entry(i) for i in kb.matcher.entries_speaking_of(question)[:2]]
            rows = [[button(e.title, NAME, "e", e.id)] for e in related if e is not None]
            return [Reply(OUT_OF_SCOPE, buttons=self._fallback_rows(rows))]
        short = len(question.split()) <= SHORT_QUESTION
        if not result.fallback and result.best is not None:
            entry = kb.entry(result.best.entry_id)
            sure = (
                decision.followup
                or not short
                or (
                    result.best.score >= SURE_FOR_SHORT
                    and kb.matcher.closeness(question, result.best.entry_id) >= SURE_FOR_SHORT
                )
            )
            if entry is not None and sure:
                return [await self._give(ctx, kb, entry, question, result.candidates)]
            if entry is not None:
                # One or two words ("hỗ trợ", "hội chợ"): ask which question they mean.
                rows = self._candidate_rows(kb, result.candidates)
                return [Reply(TOO_VAGUE, buttons=rows + self._fallback_rows([])[1:])]
        await self._store_unanswered(ctx, question, result.candidates)
        rows = self._candidate_rows(kb, result.candidates)
        text = f"{NOT_SURE}\n{NOT_SURE_PICK if rows else NOT_SURE_NONE}"
        return [Reply(text, buttons=self._fallback_rows(rows))]

    # --- features named in a question, live events ------------------------------------

    async def _feature_request(
        self, ctx: Context, question: str, skip: str = ""
    ) -> list[Reply] | None:
        found = feature_request(question)
        if found is None or found[0] == skip:
            return None
        name, action = found
        feature = ctx.router.get(name)
        if feature is None:
            return None
        return await feature.on_button(ctx, action, "")

    async def open_named_feature(self, ctx: Context, text: str, skip: str) -> list[Reply] | None:
        """For another dialogue: the feature a text asks for («tắt nhắc lịch») opened, or
        None (``skip``: the asking feature itself)."""
        return await self._feature_request(ctx, text, skip)

    async def _events_answer(self, ctx: Context, question: str) -> Reply | None:
        from handlers.faq.events import event_question, format_events, upcoming_for

        asked = event_question(question)
        if asked is None:
            return None
        events = await upcoming_for(ctx.session, ctx.user.id, asked.kinds, ctx.services.now())
        if not events:
            return None  # nothing recorded: the general entry answers
        rows: list[list[Button]] = []
        if ctx.router.get("reminders") is not None:
            rows.append([button("🔔 Nhắc tôi", "reminders", "sub")])
        rows.append([button("✍️ Hỏi cán bộ", NAME, "ask_staff"), button("🏠 Menu", "menu", "home")])
        return Reply(format_events(events), buttons=rows)

    # --- conversation memory ------------------------------------------------------------

    def _previous(self, ctx: Context, kb: KnowledgeBase) -> Entry | None:
        if ctx.state.dialogue is not None:
            return None
        last = ctx.state.data.get(NAME)
        if not isinstance(last, dict):
            return None
        try:
            at = datetime.fromisoformat(str(last.get("at")))
        except ValueError:
            return None
        if ctx.services.now() - at > FOLLOWUP_WINDOW:
            return None
        return kb.entry(str(last.get("e")))

    def _remember(self, ctx: Context, entry: Entry, question: str, others: list[str]) -> None:
        if ctx.state.dialogue is not None:
            return  # another dialogue owns the state
        ctx.state.data[NAME] = {
            "e": entry.id,
            "at": ctx.services.now().isoformat(),
            "q": question[:300],
            "c": others[:4],
        }

    # --- feedback -------------------------------------------------------------------------

    async def _feedback(
        self, ctx: Context, entry_id: str, kind: str, question: str | None = None
    ) -> None:
        from db.repos.faq_feedback import FeedbackRepo

        await FeedbackRepo(ctx.session).add(
            ctx.incoming.channel, ctx.incoming.chat_id, entry_id, kind, question
        )

    async def _disliked(self, ctx: Context, kb: KnowledgeBase, entry_id: str) -> Reply:
        last = ctx.state.data.get(NAME) if ctx.state.dialogue is None else None
        last = last if isinstance(last, dict) and last.get("e") == entry_id else {}
        question = str(last.get("q") or "")
        await self._feedback(ctx, entry_id, "down", question or None)
        given = kb.entry(entry_id)
        if question and given is not None:
            from knowledge.matcher import Candidate

            await self._store_unanswered(
                ctx, question, [Candidate(given.id, given.topic, 0.0)], source="feedback"
            )
        others = [kb.entry(str(i)) for i in last.get("c") or []]
        rows = [[button(e.title, NAME, "e", e.id)] for e in others if e is not None][:3]
        text = f"{THANKS_DOWN}\n{NEXT_PICK if rows else NEXT_NONE}"
        return Reply(text, buttons=self._fallback_rows(rows))

    def _candidate_rows(self, kb: KnowledgeBase, candidates: list) -> list[list[Button]]:
        entries = [kb.entry(c.entry_id) for c in candidates[:3]]
        return [[button(e.title, NAME, "e", e.id)] for e in entries if e is not None]

    def _fallback_rows(self, rows: list[list[Button]]) -> list[list[Button]]:
        return [
            *rows,
            [button("✍️ Hỏi cán bộ", NAME, "ask_staff")],
            [button("📚 Xem theo chủ đề", NAME, "open"), button("🏠 Menu", "menu", "home")],
        ]

    async def _store_unanswered(
        self, ctx: Context, question: str, candidates: list, source: str = "unsure"
    ) -> None:
        from db.repos.faq import UnansweredRepo

        stored = [
            {"id": c.entry_id, "topic": c.topic, "score": round(c.score, 3)} for c in candidates
        ]
        await UnansweredRepo(ctx.session).add(
            ctx.incoming.channel, ctx.incoming.chat_id, question[:MAX_STORED], stored
        )
        # The same question in the staff queue (human handoff), where staff can answer it.
        tickets: Any = ctx.router.get("tickets")
        if tickets is not None:
            note = "bot chưa trả lời được" if source == "unsure" else "người hỏi bấm «chưa đúng ý»"
            await tickets.from_faq(ctx, question[:MAX_STORED], source, note)

    # --- rendering -----------------------------------------------------------------

    async def answer_in_dialogue(self, ctx: Context, text: str) -> Reply | None:
        """The answer to a question typed in the middle of another dialogue, without
        buttons (they would lead out of it); None when the knowledge base is not sure, so
        that the dialogue simply asks its step again."""
        events = await self._events_answer(ctx, text)
        if events is not None:  # "which fairs are coming?": the recorded ones, as outside
            return Reply(events.text)
        kb = self._kb(ctx)
        if kb is None:
            return None
        result = kb.answer(text)
        if result.fallback or result.best is None or result.reason == "no domain term":
            return None
        entry = kb.entry(result.best.entry_id)
        if entry is None:
            return None
        return Reply(self._answer_text(ctx, entry, text))

    async def _give(
        self, ctx: Context, kb: KnowledgeBase, entry: Entry, question: str, candidates: list
    ) -> Reply:
        """The answer, remembered for follow-ups and 👎, and counted for staff."""
        others = [c.entry_id for c in candidates if c.entry_id != entry.id]
        self._remember(ctx, entry, question, others)
        await self._feedback(ctx, entry.id, "given")
        return self._answer(ctx, kb, entry, question)

    def _answer(self, ctx: Context, kb: KnowledgeBase, entry: Entry, question: str = "") -> Reply:
        text = self._answer_text(ctx, entry, question)
        rows: list[list[Button]] = [
            [
                button("👍 Đúng ý", NAME, "up", entry.id),
                button("👎 Chưa đúng ý", NAME, "down", entry.id),
            ]
        ]
        for related_id in entry.related[:2]:
            related = kb.entry(related_id)
            if related is not None:
                rows.append([button(f"➡️ {related.title}", NAME, "e", related.id)])
        actions = [button("🏠 Menu", "menu", "home")]
        if ctx.router.get("intake") is not None:
            actions.insert(0, button("📝 Tạo hồ sơ", "menu", "intake"))
        rows.append(actions)
        rows.append([button("✍️ Hỏi cán bộ", NAME, "ask_staff")])
        return Reply(text, buttons=rows)

    def _answer_text(self, ctx: Context, entry: Entry, question: str = "") -> str:
        from knowledge.content import fill_placeholders

        s = ctx.settings
        first = entry.questions[0] if entry.questions else ""
        text = answer_opening(entry.answer, question, first)
        text = fill_placeholders(
            text,
            {
                "centre_name": s.centre_name,
                "centre_phone": s.centre_phone,
                "centre_address": s.centre_address,
                "centre_hours": s.centre_hours,
                "centre_email": s.centre_email,
            },
        ).strip()
        return f"{text}\n\n📄 Nguồn: {entry.source}"

    def _not_ready(self, ctx: Context) -> Reply:
        return Reply(NOT_READY, buttons=[[button("☎️ Liên hệ cán bộ", "menu", "contact")]])


def feature(services: Services) -> Feature:
    return FaqFeature()


# --- pure helpers (also used by the benchmark) --------------------------------------------


def _has(toks: list[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tuple(toks[i : i + n]) == phrase for i in range(len(toks) - n + 1))


def feature_request(question: str) -> tuple[str, str] | None:
    """(feature, action) when the text asks for a feature («làm hồ sơ», «tắt nhắc lịch»,
    «cho em gặp người thật được không»), None when it is a question about a subject."""
    toks = tokens(question)
    if not toks or len(toks) > 10 or any(_has(toks, p) for p in _QUESTION_PHRASES):
        return None
    for phrase, feature, action in FEATURE_PHRASES:
        n = len(phrase)
        for i in range(len(toks) - n + 1):
            if tuple(toks[i : i + n]) == phrase:
                rest = toks[:i] + toks[i + n :]
                if all(t in _REQUEST_WORDS for t in rest):
                    return feature, action
    return None


def _may_follow(question: str) -> bool:
    return 0 < len(tokens(question)) <= FOLLOWUP_MAX_WORDS


def _starts_like_followup(question: str) -> bool:
    toks = tokens(question)
    return any(tuple(toks[: len(p)]) == p for p in _FOLLOWUP_STARTS) or (
        len(toks) >= 2 and toks[-2:] == ["thi", "sao"]
    )


@dataclass(frozen=True)
class Decision:
    """What to do with a question: the match to use, whether it was read as a follow-up,
    and the two close candidates to ask between (then nothing is answered)."""

    result: MatchResult
    followup: bool = False
    ask: list[Any] | None = None


def decide(kb: KnowledgeBase, question: str, previous: Entry | None) -> Decision:
    """The match for ``question``; a short question within the follow-up window
    (``previous`` given) that does not pin a topic on its own is read with the previous
    answer's topic."""
    result = kb.answer(question)
    if previous is None or not _may_follow(question):
        return Decision(result)
    use_followup = (
        _starts_like_followup(question)
        or result.coverage is None  # only procedure words («được bao nhiêu %»): no subject
        or result.fallback
        or result.best is None
        or result.best.score < SELF_CONTAINED
        or _generic(result)
    )
    if not use_followup:
        return Decision(result)
    followed = resolve_followup(kb, question, previous)
    if not followed.candidates:
        return Decision(result)
    close = _close_pair(followed)
    if close is not None:
        return Decision(followed, True, close)
    if not followed.fallback and followed.best is not None:
        return Decision(followed, True)
    return Decision(result)


def _generic(result: MatchResult) -> bool:
    """The question alone fits several topics about equally («được hỗ trợ bao nhiêu %»)."""
    if result.best is None:
        return True
    near = {c.topic for c in result.candidates[:3] if result.best.score - c.score < GENERIC_SPREAD}
    return len(near) >= 2


def _close_pair(result: MatchResult) -> list[Any] | None:
    """The two best candidates when they are of different topics and too close to choose."""
    c = result.candidates
    if len(c) >= 2 and c[0].topic != c[1].topic and c[0].score - c[1].score < CLOSE:
        return c[:2]
    return None


def resolve_followup(kb: KnowledgeBase, question: str, previous: Entry) -> MatchResult:
    """A short follow-up read with the previous answer's topic: the question together with
    the previous entry's title, entries of the same topic preferred. A follow-up asks
    something new, so another entry of the topic goes before the previous entry itself."""
    from knowledge.matcher import MatchResult

    result = kb.matcher.match(f"{previous.title} {question}", k=4, prefer_topic=previous.topic)
    cands = list(result.candidates)
    if len(cands) > 1 and cands[0].entry_id == previous.id and cands[1].topic == previous.topic:
        cands = [cands[1], cands[0], *cands[2:]]
    if not cands:
        return result
    return MatchResult(
        result.fallback, None if result.fallback else cands[0], cands[:3], result.reason
    )


def asks_yes_no(question: str) -> bool:
    toks = tokens(question)
    if not toks:
        return False
    return (
        toks[-1] in {"khong", "chua"} or _has(toks, ("co", "phai")) or _has(toks, ("duoc", "khong"))
    )


def answer_opening(answer: str, question: str, entry_question: str = "") -> str:
    """An answer opens with the fact: a leading «Có.»/«Không.» is kept only when the entry
    is a yes/no question and the user asked one."""
    text = answer.lstrip()
    yes_no = asks_yes_no(question) and asks_yes_no(entry_question)
    for word in ("Có.", "Không."):
        if text.startswith(word + " ") and not yes_no:
            rest = text[len(word) :].lstrip()
            return rest[:1].upper() + rest[1:]
    return text
