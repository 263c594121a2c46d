"""The form engine: runs a ``Form`` for a feature.

A feature subclasses ``FormFeature`` with its ``form`` and, where it needs to, overrides
the hooks (``guard``, ``saved``, ``read``, ``answered``, ``finished``, ``summary_reply``,
``quit_replies``, ``question``). The engine owns what every dialogue needs:

- buttons for a step's choices (one, or several with toggles and «✅ Tiếp»);
- a typed answer at a button step is read against the buttons' labels (with or without
  diacritics, «tất cả» where it applies); otherwise the short hint and the same buttons;
- a question typed mid-dialogue («có mất phí không?») gets the FAQ's answer, then the step
  is asked again: nobody silently leaves a dialogue;
- back, skip (only where allowed), keep the current value, quit («hủy», «thôi», «thoát»,
  «dừng», alone in a message);
- a summary with edit-one-field, when the form has one;
- resuming after a restart: everything is in ``ctx.state`` (saved by the engine in the
  database after each message), so the next message simply continues the step.

State: ``ctx.state.data["a"]`` holds the answers; ``"editing"``/``"queue"`` the edit of
one field from the summary. Payloads: ``<form>:pick:<step>:<choice>``, ``tog:<step>:<choice>``,
``done:<step>``, ``skip``, ``keep``, ``back``, ``exit``, ``confirm``, ``edit[:<step>]``,
``summary``.
"""

from __future__ import annotations

from typing import Any

from rapidfuzz import fuzz, process

from bot.types import Button, Reply, buttons_in_rows
from handlers.base import Context, Feature, button
from handlers.forms import words
from handlers.forms.model import Answers, Choice, Form, Hint, Step
from knowledge.normalize import fold_key

SUMMARY = "summary"
BACK = "⬅️ Quay lại"
EXIT = "✖️ Thoát"
TO_SUMMARY = "⬅️ Về bản tóm tắt"
SKIP = "⏭️ Bỏ qua"
KEEP = "✔️ Giữ nguyên"
NO_SKIP = "Câu này cần trả lời, không bỏ qua được."
FIRST = "Đây là câu đầu tiên rồi. Muốn dừng thì bấm «{exit}»."
NO_CONTACT = "Mình chưa cần số điện thoại ở bước này."
SUMMARY_HINT = "Bạn bấm «Xác nhận» để lưu, hoặc «Sửa một mục» để sửa nhé."
FAQ_AFTER = "Mình hỏi tiếp nhé:"
QUESTION_LATER = (
    "Câu hỏi này mình chưa trả lời chắc được. Bạn trả lời câu dưới đây trước, "
    "xong rồi hỏi lại mình nhé."
)
# How close (rapidfuzz ratio, 0-100) a typed word must be to a label to count as a typo of it.
_CHOICE_CUTOFF = 88


def _box(ticked: bool) -> str:
    return "☑️" if ticked else "⬜"


def label_key(label: str) -> str:
    """A button label as people type it: folded; emoji and check boxes fall away with the
    punctuation."""
    return fold_key(label)


class FormFeature(Feature):
    form: Form

    def __init__(self) -> None:
        self.numeric_steps = self.form.numeric_steps

    # --- hooks (override where the feature needs more) ---------------------------------

    async def guard(self, ctx: Context) -> list[Reply] | None:
        """Before a message in the dialogue: replies to end it with, or None to go on."""
        return None

    def saved(self, ctx: Context) -> None:
        """Called after the answers or the step changed (e.g. to copy them to a row)."""

    async def read(self, ctx: Context, step: Step, text: str) -> list[Reply] | None:
        """A step's own reading of typed text, before the generic one; None: generic."""
        return None

    async def answered(self, ctx: Context, step: Step) -> tuple[list[Reply], list[Reply] | None]:
        """After an answer is stored: (notes to show, replies instead of going on or None)."""
        return [], None

    async def finished(self, ctx: Context) -> list[Reply]:
        """Every step answered (and confirmed, when the form has a summary)."""
        ctx.finish()
        return []

    def quit_replies(self, ctx: Context) -> list[Reply]:
        return [Reply(self.form.quit_text, buttons=[[button("🏠 Menu", "menu", "home")]])]

    def is_answered(self, answers: Answers, step: Step) -> bool:
        if step.skippable:
            return step.id in answers
        return answers.get(step.id) not in (None, "", [])

    def current_text(self, ctx: Context, step: Step) -> str | None:
        """The current value as shown in "(Hiện tại: …)"; None: don't show it."""
        return None

    def summary_reply(self, ctx: Context) -> Reply:
        a = self.answers(ctx)
        lines = ["📋 Xem lại:"]
        for i, step in enumerate(self.form.steps, 1):
            lines.append(f"{i}. {step.label or step.id}: {self.current_text(ctx, step) or '—'}")
        return Reply("\n".join(lines), buttons=self.summary_buttons(a))

    def summary_buttons(self, answers: Answers) -> list[list[Button]]:
        return [
            [self.b("✅ Xác nhận", "confirm")],
            [self.b("✏️ Sửa một mục", "edit")],
            [self.b(BACK, "back")],
        ]

    # --- state ------------------------------------------------------------------------

    def b(self, label: str, action: str, arg: str = "") -> Button:
        return button(label, self.form.name, action, arg)

    @staticmethod
    def answers(ctx: Context) -> Answers:
        a = ctx.state.data.get("a")
        return dict(a) if isinstance(a, dict) else {}

    def in_form(self, ctx: Context) -> bool:
        return ctx.state.dialogue == self.form.name and bool(ctx.state.step)

    def begin(self, ctx: Context, answers: Answers | None = None, **extra: Any) -> list[Reply]:
        """Start the form (at the first unanswered step, or the first step)."""
        ctx.start(self.form.name, self.form.steps[0].id, {"a": dict(answers or {}), **extra})
        return self.goto(ctx, self.form.steps[0].id)

    def first_missing(self, ctx: Context) -> str | None:
        a = self.answers(ctx)
        for step in self.form.steps:
            if not self.is_answered(a, step):
                return step.id
        return None

    def goto(self, ctx: Context, step_id: str) -> list[Reply]:
        ctx.state.step = step_id
        self.saved(ctx)
        if step_id == SUMMARY:
            return [self.summary_reply(ctx)]
        return self.question(ctx, step_id)

    async def store(self, ctx: Context, step: Step, updates: Answers) -> list[Reply]:
        """Store answers, check them, then go on (or stay, with the check's message)."""
        a = {**self.answers(ctx), **updates}
        if step.check is not None:
            problem = step.check(a)
            if problem:
                return [Reply(problem), *self.question(ctx, step.id)]
        # A new dict, never an in-place change: the engine compares states shallowly.
        ctx.state.data["a"] = a
        self.saved(ctx)
        notes, instead = await self.answered(ctx, step)
        if instead is not None:
            return [*notes, *instead]
        return [*notes, *await self.advance(ctx, step.id)]

    def queue_next(self, ctx: Context, step_id: str) -> None:
        """While editing one field: ask ``step_id`` too before the summary."""
        if ctx.state.data.get("editing"):
            ctx.state.data["queue"] = [step_id, *ctx.state.data.get("queue", [])]

    async def advance(self, ctx: Context, step_id: str) -> list[Reply]:
        if ctx.state.data.get("editing"):
            queue = list(ctx.state.data.get("queue") or [])
            if queue:
                ctx.state.data["queue"] = queue[1:]
                return self.goto(ctx, queue[0])
            return await self.to_summary(ctx)
        ids = self.form.ids
        if step_id in ids and ids.index(step_id) + 1 < len(ids):
            return self.goto(ctx, ids[ids.index(step_id) + 1])
        missing = self.first_missing(ctx)
        if missing:
            return self.goto(ctx, missing)
        return await self.to_summary(ctx)

    async def to_summary(self, ctx: Context) -> list[Reply]:
        ctx.state.data["editing"] = False
        ctx.state.data["queue"] = []
        missing = self.first_missing(ctx)
        if missing:
            return self.goto(ctx, missing)
        if not self.form.summary:
            return await self.finished(ctx)
        return self.goto(ctx, SUMMARY)

    # --- rendering --------------------------------------------------------------------

    def question_text(self, ctx: Context, step: Step) -> str:
        a = self.answers(ctx)
        n = self.form.index(step.id) + 1
        prefix = self.form.numbering.format(n=n, total=len(self.form.steps))
        lines = [prefix + step.text(step.question, ctx, a)]
        example = step.text(step.example, ctx, a)
        if example:
            lines.append(f"Ví dụ: {example}")
        current = self.current_text(ctx, step) if self.is_answered(a, step) else None
        if current:
            lines.append(f"(Hiện tại: {current})")
        return "\n".join(lines)

    def step_buttons(self, ctx: Context, step: Step) -> list[list[Button]]:
        """The step's choices, skip and keep (without back/exit)."""
        a = self.answers(ctx)
        choices = step.choices_for(ctx, a)
        if step.multi:
            chosen = set(a.get(step.id) or [])
            rows = [
                [
                    self.b(
                        f"{'☑️' if c.stored in chosen else '⬜'} {c.label}",
                        "tog",
                        f"{step.id}:{c.id}",
                    )
                ]
                for c in choices
            ]
            rows.append([self.b(step.text(step.done_label, ctx, a), "done", step.id)])
        else:
            rows = buttons_in_rows(
                [self.b(c.label, "pick", f"{step.id}:{c.id}") for c in choices], step.columns
            )
        if step.skippable:
            rows.append([self.b(SKIP, "skip")])
        if self.current_text(ctx, step) is not None and self.is_answered(a, step):
            rows.append([self.b(KEEP, "keep")])
        return rows

    def nav_row(self, ctx: Context, step: Step) -> list[Button]:
        if ctx.state.data.get("editing"):
            return [self.b(TO_SUMMARY, "back")]
        if self.form.index(step.id) == 0:
            return [self.b(EXIT, "exit")]
        return [self.b(BACK, "back")]

    def question(self, ctx: Context, step_id: str) -> list[Reply]:
        step = self.form.by_id[step_id]
        rows = [*self.step_buttons(ctx, step), self.nav_row(ctx, step)]
        return [Reply(self.question_text(ctx, step), buttons=rows)]

    async def reprompt(self, ctx: Context) -> list[Reply]:
        step = ctx.state.step
        if step == SUMMARY:
            return [self.summary_reply(ctx)]
        if step in self.form.by_id:
            return self.question(ctx, step)
        return []

    # --- buttons ----------------------------------------------------------------------

    async def form_button(self, ctx: Context, action: str, arg: str) -> list[Reply]:
        """The form's own buttons; anything else is a stale button."""
        if not self.in_form(ctx):
            return await ctx.router.stale_button(ctx)
        stop = await self.guard(ctx)
        if stop is not None:
            return stop
        step_id = ctx.state.step or ""
        step = self.form.by_id.get(step_id)
        step_arg, _, value = arg.partition(":")
        if action == "back":
            return await self.back(ctx)
        if action == "exit":
            return self.quit(ctx)
        if step is not None:
            if action in ("pick", "tog", "done") and step_arg != step.id:
                return await ctx.router.stale_button(ctx)
            if action == "pick":
                choice = self._choice(ctx, step, value)
                if choice is None:
                    return await ctx.router.stale_button(ctx)
                return await self.store(ctx, step, step.updates(choice.stored, self.answers(ctx)))
            if action == "tog" and step.multi:
                choice = self._choice(ctx, step, value)
                if choice is None:
                    return await ctx.router.stale_button(ctx)
                chosen = list(self.answers(ctx).get(step.id) or [])
                if choice.stored in chosen:
                    chosen.remove(choice.stored)
                else:
                    chosen.append(choice.stored)
                ctx.state.data["a"] = {**self.answers(ctx), step.id: chosen}
                self.saved(ctx)
                return self.question(ctx, step.id)
            if action == "done" and step.multi:
                return await self._done(ctx, step)
            if action == "skip" and step.skippable and step_arg in ("", step.id):
                return await self.store(ctx, step, {step.id: step.skip_value})
            answered = self.is_answered(self.answers(ctx), step)
            if action == "keep" and step_arg in ("", step.id) and answered:
                return await self.store(ctx, step, {})
        if step_id == SUMMARY and self.form.summary:
            if action == "confirm":
                return await self.confirm(ctx)
            if action == "edit" and not arg:
                return [self.edit_menu()]
            if action == "edit" and arg in self.form.by_id:
                ctx.state.data["editing"] = True
                ctx.state.data["queue"] = []
                return self.goto(ctx, arg)
            if action == "summary":
                return [self.summary_reply(ctx)]
        return await ctx.router.stale_button(ctx)

    def _choice(self, ctx: Context, step: Step, choice_id: str) -> Choice | None:
        for choice in step.choices_for(ctx, self.answers(ctx)):
            if choice.id == choice_id:
                return choice
        return None

    async def _done(self, ctx: Context, step: Step) -> list[Reply]:
        chosen = list(self.answers(ctx).get(step.id) or [])
        order = [c.stored for c in step.choices_for(ctx, self.answers(ctx))]
        chosen = [v for v in order if v in chosen]
        return await self.store(ctx, step, {step.id: chosen})

    def edit_menu(self) -> Reply:
        buttons = [
            self.b(f"{i}. {s.label}", "edit", s.id) for i, s in enumerate(self.form.steps, 1)
        ]
        return Reply(
            "Bạn muốn sửa mục nào?",
            buttons=[*buttons_in_rows(buttons, 2), [self.b(TO_SUMMARY, "summary")]],
        )

    async def confirm(self, ctx: Context) -> list[Reply]:
        missing = self.first_missing(ctx)
        if missing:
            return [Reply("Còn thiếu một câu trả lời."), *self.goto(ctx, missing)]
        return await self.finished(ctx)

    async def back(self, ctx: Context) -> list[Reply]:
        step = ctx.state.step or ""
        if ctx.state.data.get("editing"):
            return await self.to_summary(ctx)
        ids = self.form.ids
        if step == SUMMARY:
            return self.goto(ctx, ids[-1])
        if step not in ids or ids.index(step) == 0:
            return [Reply(FIRST.format(exit=EXIT)), *self.goto(ctx, ids[0])]
        return self.goto(ctx, ids[ids.index(step) - 1])

    def quit(self, ctx: Context) -> list[Reply]:
        replies = self.quit_replies(ctx)
        ctx.finish()
        return replies

    # --- typed text -------------------------------------------------------------------

    async def on_text(self, ctx: Context) -> list[Reply]:
        if not self.in_form(ctx):
            ctx.finish()
            return await ctx.router.free_text(ctx)
        stop = await self.guard(ctx)
        if stop is not None:
            return stop
        text = ctx.text
        step_id = ctx.state.step or ""
        if text and words.is_quit(text):
            return self.quit(ctx)
        if text and words.is_back(text):
            return await self.back(ctx)
        if step_id == SUMMARY:
            return await self._summary_text(ctx, text)
        step = self.form.by_id.get(step_id)
        if step is None:  # a step of an older version of this dialogue
            return self.goto(ctx, self.first_missing(ctx) or self.form.ids[0])
        if ctx.incoming.phone:
            if not step.contact:
                return [Reply(NO_CONTACT), *self.question(ctx, step.id)]
            text = ctx.incoming.phone
        a = self.answers(ctx)
        if text and words.is_keep(text) and self.is_answered(a, step):
            return await self.store(ctx, step, {})
        if text and (words.is_skip(text) or fold_key(text) in step.skip_words):
            if step.skippable:
                return await self.store(ctx, step, {step.id: step.skip_value})
            if words.is_skip(text):
                return [Reply(NO_SKIP), *self.question(ctx, step.id)]
        if step.free_text and words.looks_like_question(text):
            return await self.faq_then_step(ctx, step, text)
        special = await self.read(ctx, step, text)
        if special is not None:
            return special
        return await self.read_answer(ctx, step, text)

    async def read_answer(self, ctx: Context, step: Step, text: str) -> list[Reply]:
        """The generic reading: the buttons' labels, then the parser, else the hint."""
        a = self.answers(ctx)
        choices = step.choices_for(ctx, a)
        if choices:
            if step.multi and fold_key(text) in self._done_words(ctx, step):
                return await self._done(ctx, step)
            picked = self.match_choices(ctx, step, choices, text)
            if picked is not None:
                if step.multi:
                    return await self.store(ctx, step, {step.id: picked})
                return await self.store(ctx, step, step.updates(picked[0], a))
        question = words.looks_like_question(text)
        if question and step.parse is None:
            return await self.faq_then_step(ctx, step, text)
        if step.parse is not None:
            try:
                value = step.parse(text, a)
            except Hint as exc:
                if question:
                    return await self.faq_then_step(ctx, step, text)
                return [Reply(str(exc)), *self.question(ctx, step.id)]
            return await self.store(ctx, step, step.updates(value, a))
        return [Reply(step.hint), *self.question(ctx, step.id)]

    def _done_words(self, ctx: Context, step: Step) -> set[str]:
        label = label_key(step.text(step.done_label, ctx, self.answers(ctx)))
        return {label, label.split(" ")[0], "xong", "tiep", "tiep tuc", "luu", "ok", "oke"}

    def match_choices(
        self, ctx: Context, step: Step, choices: list[Choice], text: str
    ) -> list[Any] | None:
        """The stored values of the choices a typed text names, or None.

        Exact (folded) label or word first, then a near match (typos); at a multi-select
        step several names separated by commas, or «tất cả» where it applies."""
        key = fold_key(text)
        if not key:
            return None
        if step.multi and step.all_choice and words.is_all(text):
            return [c.stored for c in choices]
        parts = [key]
        if step.multi:
            parts = [fold_key(p) for p in text.replace(";", ",").replace(" và ", ",").split(",")]
            parts = [p for p in parts if p]
        found: list[Any] = []
        for part in parts:
            choice = self._match_one(choices, part)
            if choice is None:
                return None
            if choice.stored not in found:
                found.append(choice.stored)
        return found or None

    @staticmethod
    def _match_one(choices: list[Choice], key: str) -> Choice | None:
        for choice in choices:
            if key == label_key(choice.label) or key == choice.id or key in choice.words:
                return choice
        names = {i: label_key(c.label) for i, c in enumerate(choices)}
        # The start of one label only ("cơ khí" for «Cơ khí, điện, điện tử»).
        starts = [
            i for i, name in names.items() if len(key) >= 3 and f"{name} ".startswith(f"{key} ")
        ]
        if len(starts) == 1:
            return choices[starts[0]]
        best = process.extractOne(key, names, scorer=fuzz.ratio, score_cutoff=_CHOICE_CUTOFF)
        if best is not None:
            return choices[best[2]]
        return None

    async def faq_then_step(self, ctx: Context, step: Step, text: str) -> list[Reply]:
        """A question typed mid-dialogue: the FAQ's answer (if it is sure), then the step."""
        faq = ctx.router.get("faq")
        answer_in_dialogue = getattr(faq, "answer_in_dialogue", None)
        reply = await answer_in_dialogue(ctx, text) if answer_in_dialogue is not None else None
        if reply is None:
            return [Reply(QUESTION_LATER), *self.question(ctx, step.id)]
        return [reply, Reply(FAQ_AFTER), *self.question(ctx, step.id)]

    async def _summary_text(self, ctx: Context, text: str) -> list[Reply]:
        if fold_key(text) in words.CONFIRM:
            return await self.confirm(ctx)
        if words.looks_like_question(text):
            faq = ctx.router.get("faq")
            answer_in_dialogue = getattr(faq, "answer_in_dialogue", None)
            if answer_in_dialogue is not None:
                reply = await answer_in_dialogue(ctx, text)
                if reply is not None:
                    return [reply, self.summary_reply(ctx)]
        return [Reply(SUMMARY_HINT), self.summary_reply(ctx)]

    # --- routing ----------------------------------------------------------------------

    async def on_button(self, ctx: Context, action: str, arg: str) -> list[Reply]:
        return await self.form_button(ctx, action, arg)
