"""The form engine: dialogues declared as data (``Form`` of ``Step``s) and run by
``FormFeature``, which owns back, skip, keep, quit, summary, edit, typed answers at button
steps and questions typed mid-dialogue."""

from handlers.forms.engine import FormFeature
from handlers.forms.model import Answers, Choice, Form, Hint, Step

__all__ = ["Answers", "Choice", "Form", "FormFeature", "Hint", "Step"]
