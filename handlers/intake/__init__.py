"""The intake feature: a facility owner's chat becomes a draft application and its request.

- ``dialogue``: the dialogue, declared on the form engine (``handlers.forms``);
- ``steps``: the steps' wording, choices, eligibility rules and summaries;
- ``parse``: readers of typed answers (money, counts, phone and registration numbers);
- ``document``: the filled request «Đơn đề nghị hỗ trợ kinh phí khuyến công» (DOCX);
- ``service``: what the command line (and later the staff pages) do with drafts.
"""

from handlers.intake.dialogue import IntakeFeature, feature

__all__ = ["IntakeFeature", "feature"]
