"""Questions and answers: free text → the best entry with its source, or an honest
"not sure" with the closest topics, a way to reach staff, and the question kept for staff.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.types import Button, Reply
from handlers.base import Context, Feature, Services, button
from knowledge.normalize import tokens

if TYPE_CHECKING:
    from knowledge.content import Entry
    from knowledge.kb import KnowledgeBase

log = logging.getLogger(__name__)

NAME = "faq"

NOT_READY = (
    "Phần hỏi đáp đang tạm dừng để cập nhật nội dung. Bạn liên hệ cán bộ Trung tâm giúp mình nhé."
)
NOT_SURE = "Mình chưa chắc hiểu đúng câu hỏi của bạn 🤔"
NOT_SURE_PICK = "Có phải bạn muốn hỏi một trong các ý sau? Hoặc gửi câu hỏi cho cán bộ."
NOT_SURE_NONE = "Bạn thử hỏi cách khác, xem theo chủ đề, hoặc gửi câu hỏi cho cán bộ."
ASK_STAFF = (
    "Bạn gõ câu hỏi cho cán bộ Trung tâm trong một tin nhắn. "
    "Cán bộ sẽ trả lời bạn trong giờ làm việc."
)
STAFF_SAVED = "Mình đã chuyển câu hỏi tới cán bộ Trung tâm. Cán bộ sẽ trả lời bạn sớm. 🙏"
TOO_SHORT = "Câu hỏi trống. Bạn gõ câu hỏi cho cán bộ, hoặc bấm Hủy."
BROWSE = "Bạn muốn tìm hiểu về chủ đề nào?"
OUT_OF_SCOPE = (
    "Mình chỉ trả lời được câu hỏi về khuyến công: ai được hỗ trợ, hỗ trợ gì, bao nhiêu, "
    "làm hồ sơ thế nào. Bạn xem theo chủ đề, hoặc gửi câu hỏi cho cán bộ nhé."
)
TOO_VAGUE = (
    "Bạn muốn hỏi cụ thể điều gì? Chọn một câu bên dưới, hoặc gõ rõ hơn "
    "(ví dụ: «hỗ trợ máy móc bao nhiêu tiền»)."
)
# A question of this many words or fewer is answered only when the match is near certain.
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
        if action == "ask_staff":
            ctx.start(NAME, "staff_question")
            return [Reply(ASK_STAFF, buttons=[[button("✖️ Hủy", NAME, "cancel_staff")]])]
        if action == "cancel_staff":
            ctx.finish()
            from handlers.menu import main_menu

            return [main_menu("Đã hủy. Bạn cần gì thêm?")]
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
            return [self._answer(ctx, kb, entry)]
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
        if ctx.state.dialogue == NAME and ctx.state.step == "staff_question":
            return await self._save_for_staff(ctx)
        if ctx.state.dialogue == NAME:
            ctx.finish()
        kb = self._kb(ctx)
        if kb is None:
            return [self._not_ready(ctx)]
        question = ctx.text
        result = kb.answer(question)
        if result.reason == "no domain term":
            await self._store_unanswered(ctx, question, result.candidates)
            return [Reply(OUT_OF_SCOPE, buttons=self._fallback_rows([]))]
        short = len(tokens(question)) <= SHORT_QUESTION
        if not result.fallback and result.best is not None:
            entry = kb.entry(result.best.entry_id)
            if entry is not None and (not short or result.best.score >= SURE_FOR_SHORT):
                return [self._answer(ctx, kb, entry)]
            if entry is not None:
                # One or two words ("hỗ trợ", "hội chợ"): ask which question they mean.
                rows = self._candidate_rows(kb, result.candidates)
                return [Reply(TOO_VAGUE, buttons=rows + self._fallback_rows([])[1:])]
        await self._store_unanswered(ctx, question, result.candidates)
        rows = self._candidate_rows(kb, result.candidates)
        text = f"{NOT_SURE}\n{NOT_SURE_PICK if rows else NOT_SURE_NONE}"
        return [Reply(text, buttons=self._fallback_rows(rows))]

    def _candidate_rows(self, kb: KnowledgeBase, candidates: list) -> list[list[Button]]:
        entries = [kb.entry(c.entry_id) for c in candidates[:3]]
        return [[button(e.title, NAME, "e", e.id)] for e in entries if e is not None]

    def _fallback_rows(self, rows: list[list[Button]]) -> list[list[Button]]:
        return [
            *rows,
            [button("✍️ Hỏi cán bộ", NAME, "ask_staff")],
            [button("📚 Xem theo chủ đề", NAME, "open"), button("🏠 Menu", "menu", "home")],
        ]

    async def reprompt(self, ctx: Context) -> list[Reply]:
        return [Reply(ASK_STAFF, buttons=[[button("✖️ Hủy", NAME, "cancel_staff")]])]

    async def _save_for_staff(self, ctx: Context) -> list[Reply]:
        question = ctx.text
        if not question:
            return [Reply(TOO_SHORT, buttons=[[button("✖️ Hủy", NAME, "cancel_staff")]])]
        await self._store_unanswered(ctx, question, [], for_staff=True)
        ctx.finish()
        from handlers.menu import menu_buttons

        return [Reply(STAFF_SAVED, buttons=menu_buttons())]

    async def _store_unanswered(
        self, ctx: Context, question: str, candidates: list, for_staff: bool = False
    ) -> None:
        from db.repos.faq import UnansweredRepo

        stored = [
            {"id": c.entry_id, "topic": c.topic, "score": round(c.score, 3)} for c in candidates
        ]
        if for_staff:
            stored = [{"id": "ask-staff", "topic": "contact", "score": 1.0}]
        await UnansweredRepo(ctx.session).add(
            ctx.incoming.channel, ctx.incoming.chat_id, question[:MAX_STORED], stored
        )

    # --- rendering -----------------------------------------------------------------

    async def answer_in_dialogue(self, ctx: Context, text: str) -> Reply | None:
        """The answer to a question typed in the middle of another dialogue, without
        buttons (they would lead out of it); None when the knowledge base is not sure, so
        that the dialogue simply asks its step again."""
        kb = self._kb(ctx)
        if kb is None:
            return None
        result = kb.answer(text)
        if result.fallback or result.best is None or result.reason == "no domain term":
            return None
        entry = kb.entry(result.best.entry_id)
        if entry is None:
            return None
        return Reply(self._answer_text(ctx, entry))

    def _answer(self, ctx: Context, kb: KnowledgeBase, entry: Entry) -> Reply:
        text = self._answer_text(ctx, entry)
        rows: list[list[Button]] = []
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

    def _answer_text(self, ctx: Context, entry: Entry) -> str:
        from knowledge.content import fill_placeholders

        s = ctx.settings
        text = fill_placeholders(
            entry.answer,
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
