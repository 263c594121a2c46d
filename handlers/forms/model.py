"""Dialogues as data: a ``Form`` is a list of ``Step``s.

A step says what to ask and how to read the answer; the engine (``handlers.forms.engine``)
does the rest: buttons, typed answers at button steps, back, skip, keep, quit, summary and
edit, questions typed mid-dialogue, resuming after a restart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from handlers.base import Context

Answers = dict[str, Any]


class Hint(ValueError):
    """A typed answer that can't be used; ``str(exc)`` is the short message for the user
    (what to send instead). The engine adds the question again."""


@dataclass(frozen=True)
class Choice:
    """One button. ``id`` goes in the payload (short), ``value`` is stored; ``words`` are
    more folded phrases that mean this choice when typed."""

    id: str
    label: str
    value: Any = None
    words: tuple[str, ...] = ()

    @property
    def stored(self) -> Any:
        return self.id if self.value is None else self.value


# Text, or a function of (context, answers so far) giving it.
Text: TypeAlias = str | Callable[["Context", Answers], str]
Choices: TypeAlias = Sequence[Choice] | Callable[["Context", Answers], Sequence[Choice]]


@dataclass(frozen=True)
class Step:
    id: str
    question: Text
    label: str = ""  # the field's name in a summary and on "edit" buttons
    example: Text = ""
    # Reads typed text: returns the value, or raises Hint. None: only the choices.
    parse: Callable[[str, Answers], Any] | None = None
    choices: Choices = ()
    columns: int = 1  # buttons per row
    skippable: bool = False
    skip_value: Any = ""
    skip_words: frozenset[str] = frozenset()  # folded words that mean "skip" here
    # Several choices at once (toggle buttons, then ``done``); typed "tất cả" picks all.
    multi: bool = False
    done_label: Text = "✅ Tiếp"
    all_choice: bool = False  # typed «tất cả» selects every choice
    min_choices: int = 0
    # Checked against the answers with this one stored: a message (rejected) or None.
    check: Callable[[Answers], str | None] | None = None
    # The parser takes any words (a name, a plan): a question is never read as the answer.
    free_text: bool = False
    numeric: bool = False  # on channels without buttons, a typed "5" is the answer
    contact: bool = False  # a shared phone number answers this step
    hint: str = "Bạn chọn một nút bên dưới giúp mình nhé."
    # Stored under this key (the step id by default); ``store`` may set several keys.
    store: Callable[[Any, Answers], Answers] | None = None

    def updates(self, value: Any, answers: Answers) -> Answers:
        if self.store is not None:
            return self.store(value, answers)
        return {self.id: value}

    def choices_for(self, ctx: Context, answers: Answers) -> list[Choice]:
        if callable(self.choices):
            return list(self.choices(ctx, answers))
        return list(self.choices)

    def text(self, value: Text, ctx: Context, answers: Answers) -> str:
        return value(ctx, answers) if callable(value) else value


@dataclass(frozen=True)
class Form:
    name: str  # the feature's name: payload prefix and dialogue name
    steps: tuple[Step, ...]
    # "Bước {n}/{total}. " before each question; empty for none.
    numbering: str = "Bước {n}/{total}. "
    summary: bool = False  # a summary with confirm and edit-one-field after the last step
    quit_text: str = "Đã dừng."
    by_id: dict[str, Step] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ids = [s.id for s in self.steps]
        if len(set(ids)) != len(ids):
            raise ValueError(f"form {self.name!r}: two steps with one id")
        object.__setattr__(self, "by_id", {s.id: s for s in self.steps})

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.steps]

    def index(self, step_id: str) -> int:
        return self.ids.index(step_id)

    @property
    def numeric_steps(self) -> frozenset[str]:
        return frozenset(s.id for s in self.steps if s.numeric)
