"""Intake content: the steps, their questions, choices, eligibility rules and summaries.

Wording and rules live here; the dialogue mechanics live in ``handlers.intake.dialogue``
on the form engine (``handlers.forms``).
Eligibility follows shared/reference/khuyencong.md §3 (NĐ 45/2012 as amended by
NĐ 235/2025); nothing here states a number the reference does not support.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from handlers.forms import Answers, Choice, Step
from handlers.intake.parse import (
    Invalid,
    clean_text,
    parse_count,
    parse_money,
    parse_phone,
    parse_reg_no,
)
from knowledge import places
from knowledge.formats import money_words
from knowledge.normalize import fold_key
from knowledge.support import catalogue
from knowledge.vocabulary import vocabulary

if TYPE_CHECKING:
    from handlers.base import Context


CHOOSE = "Bạn chọn một nút bên dưới giúp mình nhé."
# Free-text limits per step (characters).
TEXT_LIMITS = {
    "facility_name": 200,
    "owner_name": 100,
    "products": 500,
    "plan": 1000,
    "results": 1000,
    "sector": 200,
}
# Typed at the registration step: "I have none" (as the «Bỏ qua» button).
NONE_YET = frozenset({"khong co", "chua co", "khong", "chua", "ko co", "k co"})


def _free_text(
    step_id: str, label: str, example: str, what: str = ""
) -> Callable[[str, Answers], str]:
    what = what or label[:1].lower() + label[1:]

    def read(text: str, a: Answers) -> str:
        return clean_text(text, what=what, example=example, max_len=TEXT_LIMITS[step_id])

    return read


def _read_owner(text: str, a: Answers) -> str:
    value = clean_text(
        text, what="họ tên chủ cơ sở", example="Nguyễn Văn An", max_len=TEXT_LIMITS["owner_name"]
    )
    if re.search(r"\d", value):
        raise Invalid("Họ tên không có chữ số. Ví dụ: Nguyễn Văn An")
    return value


def _read_support(text: str, a: Answers) -> str:
    value = guess_support(text)
    if value is None:
        raise Invalid(CHOOSE + " Ví dụ: bấm «⚙️ Máy móc, thiết bị».")
    return value


def _read_kind(text: str, a: Answers) -> str:
    value = guess_kind(text)
    if value is None:
        raise Invalid(CHOOSE + " Ví dụ: «Hộ kinh doanh».")
    return value


def _read_sector(text: str, a: Answers) -> Any:
    key = guess_sector(text)
    if key is not None:
        return key
    value = clean_text(
        text, what="ngành nghề", example="chế biến gỗ", max_len=TEXT_LIMITS["sector"]
    )
    return {"sector": "other", "sector_text": value}


def _store_sector(value: Any, a: Answers) -> Answers:
    return value if isinstance(value, dict) else {"sector": value, "sector_text": ""}


def _counterpart_check(a: Answers) -> str | None:
    cost, amount = a.get("cost"), a.get("counterpart")
    if isinstance(cost, int) and isinstance(amount, int) and amount > cost:
        return (
            "Vốn đối ứng không được lớn hơn tổng chi phí "
            f"({money_words(cost)}). Bạn gõ lại, ví dụ: 200 triệu."
        )
    return None


def _support_choices(ctx: Context, a: Answers) -> list[Choice]:
    return [Choice(t.id, t.button) for t in catalogue().types.values()]


def _commune_question(ctx: Context, a: Answers) -> str:
    if a.get("province"):
        return f"Cơ sở ở xã, phường hay đặc khu nào của {places.in_sentence(a['province'])}?"
    return "Cơ sở ở xã, phường hay đặc khu nào?"


def _commune_example(ctx: Context, a: Answers) -> str:
    if a.get("province_code"):
        return places.example_commune(int(a["province_code"]))
    return "xã Hòa Vang"


def _phone_question(ctx: Context, a: Answers) -> str:
    if ctx.capabilities.request_phone:
        return "Số điện thoại di động để cán bộ liên hệ? Bấm «📱 Chia sẻ số điện thoại» hoặc gõ số."
    return "Số điện thoại di động để cán bộ liên hệ? Bạn gõ số nhé."


def _counterpart_question(ctx: Context, a: Answers) -> str:
    question = "Vốn đối ứng cơ sở tự bỏ ra là bao nhiêu?"
    if isinstance(a.get("cost"), int):
        question += f" Tổng chi phí: {money_words(a['cost'])}."
    return question


STEPS: list[Step] = [
    Step(
        "support",
        "Bạn cần hỗ trợ nội dung gì? Chọn một mục:",
        label="Nội dung hỗ trợ",
        choices=_support_choices,
        columns=2,
        parse=_read_support,
    ),
    Step(
        "kind",
        "Cơ sở của bạn thuộc loại hình nào?",
        label="Loại hình cơ sở",
        choices=lambda ctx, a: [Choice(k, v) for k, v in KINDS.items()],
        parse=_read_kind,
    ),
    Step(
        "sector",
        "Cơ sở sản xuất ngành nghề gì?",
        label="Ngành nghề",
        choices=lambda ctx, a: [Choice(k, v) for k, v in SECTORS.items()],
        parse=_read_sector,
        store=_store_sector,
        free_text=True,
    ),
    Step(
        "province",
        "Cơ sở ở tỉnh/thành phố nào? (theo 34 tỉnh, thành từ 1/7/2025 — gõ tên cũ cũng được)",
        label="Tỉnh/thành phố",
        example="Quảng Ngãi",
        free_text=True,
    ),
    Step(
        "commune",
        _commune_question,
        label="Xã/phường",
        example=_commune_example,
        free_text=True,
    ),
    Step(
        "facility_name",
        "Tên cơ sở (như trên giấy đăng ký kinh doanh)?",
        label="Tên cơ sở",
        example="Cơ sở mộc Minh Phát",
        parse=_free_text("facility_name", "Tên cơ sở", "Cơ sở mộc Minh Phát"),
        free_text=True,
    ),
    Step(
        "reg_no",
        "Số giấy đăng ký kinh doanh hoặc mã số thuế? Chưa có thì bấm «Bỏ qua».",
        label="Số đăng ký/MST",
        example="0123456789",
        parse=lambda text, a: parse_reg_no(text, a.get("kind")),
        skippable=True,
        skip_words=NONE_YET,
    ),
    Step(
        "owner_name",
        "Họ tên chủ cơ sở (người đại diện)?",
        label="Chủ cơ sở",
        example="Nguyễn Văn An",
        parse=_read_owner,
        free_text=True,
    ),
    Step(
        "phone",
        _phone_question,
        label="Điện thoại",
        example="0912 345 678",
        parse=lambda text, a: parse_phone(text),
        contact=True,
    ),
    Step(
        "products",
        "Sản phẩm chính của cơ sở là gì?",
        label="Sản phẩm chính",
        example="bàn ghế, tủ gỗ",
        parse=_free_text("products", "Sản phẩm chính", "bàn ghế, tủ gỗ"),
        free_text=True,
    ),
    Step(
        "workers",
        "Cơ sở có bao nhiêu lao động?",
        label="Số lao động",
        example="12",
        parse=lambda text, a: parse_count(text),
        numeric=True,
    ),
    Step(
        "plan",
        "Bạn định làm gì với khoản hỗ trợ? (mua máy gì, khóa học nào, hội chợ nào…)",
        label="Việc định làm",
        example="mua 1 máy chà nhám và 1 máy cưa CNC",
        parse=_free_text("plan", "Việc định làm", "mua 1 máy chà nhám và 1 máy cưa CNC"),
        free_text=True,
    ),
    Step(
        "cost",
        "Tổng chi phí dự kiến là bao nhiêu?",
        label="Chi phí dự kiến",
        example="350 triệu",
        parse=lambda text, a: parse_money(text),
        numeric=True,
    ),
    Step(
        "counterpart",
        _counterpart_question,
        label="Vốn đối ứng",
        example="200 triệu",
        parse=lambda text, a: parse_money(text),
        check=_counterpart_check,
        numeric=True,
    ),
    Step(
        "results",
        "Bạn mong đợi kết quả gì sau khi được hỗ trợ?",
        label="Kết quả mong đợi",
        example="tăng năng suất 30%, thêm 5 lao động",
        parse=_free_text("results", "Kết quả mong đợi", "tăng năng suất 30%, thêm 5 lao động"),
        free_text=True,
    ),
]
STEP_IDS = [s.id for s in STEPS]
BY_ID = {s.id: s for s in STEPS}
TOTAL = len(STEPS)
NUMERIC = frozenset(s.id for s in STEPS if s.numeric)

KINDS: dict[str, str] = {
    "hkd": "Hộ kinh doanh",
    "tht": "Tổ hợp tác",
    "coop": "Hợp tác xã",
    "sme": "Doanh nghiệp nhỏ và vừa",
    "large": "Doanh nghiệp lớn",
    "person": "Cá nhân chưa đăng ký kinh doanh",
    "unsure": "Khác / chưa rõ",
}
_KIND_WORDS = [
    ("chua dang ky", "person"),
    ("ca nhan", "person"),
    ("ho gia dinh", "person"),
    ("ho kinh doanh", "hkd"),
    ("ho kd", "hkd"),
    ("hkd", "hkd"),
    ("to hop tac", "tht"),
    ("tht", "tht"),
    ("lien hiep htx", "coop"),
    ("hop tac xa", "coop"),
    ("htx", "coop"),
    ("doanh nghiep lon", "large"),
    ("cong ty lon", "large"),
    ("nho va vua", "sme"),
    ("dnnvv", "sme"),
    ("doanh nghiep", "sme"),
    ("cong ty", "sme"),
    ("tnhh", "sme"),
    ("co phan", "sme"),
    ("dntn", "sme"),
]

# The shared sectors (knowledge/rules/vocabulary.yaml), then "other" with its own text.
SECTORS: dict[str, str] = {
    **{term.key: term.label for term in vocabulary().sectors},
    "other": "Ngành khác (gõ tên ngành)",
}
_SUPPORT_WORDS = [
    ("day chuyen", "line"),
    ("mo hinh", "demo"),
    ("trinh dien", "demo"),
    ("may", "machinery"),
    ("thiet bi", "machinery"),
    ("mmtb", "machinery"),
    ("dao tao", "training"),
    ("truyen nghe", "training"),
    ("hoi cho", "fair"),
    ("trien lam", "fair"),
    ("thuong hieu", "brand"),
    ("tu van", "consulting"),
    ("sach hon", "cleaner"),
    ("o nhiem", "cleaner"),
    ("thanh lap", "startup"),
]

STATUS_LABELS = {
    "in_progress": "Đang làm dở",
    "abandoned": "Đã bỏ",
    "draft": "Bản nháp đã lưu (chưa nộp)",
    "submitted": "Đã nộp",
    "under_review": "Đang được xem xét",
    "approved": "Được duyệt",
    "rejected": "Không được duyệt",
    "needs_changes": "Cần bổ sung, chỉnh sửa",
}

SOURCE_SUBJECTS = "Nghị định 45/2012/NĐ-CP, sửa đổi bởi Nghị định 235/2025/NĐ-CP"


def guess_kind(text: str) -> str | None:
    folded = fold_key(text)
    for words, kind in _KIND_WORDS:
        if f" {words} " in f" {folded} ":
            return kind
    return None


def guess_support(text: str) -> str | None:
    folded = fold_key(text)
    types = catalogue().types
    for st in types.values():
        if folded in (fold_key(st.label), fold_key(st.button), st.id):
            return st.id
    for words, type_id in _SUPPORT_WORDS:
        if f" {words} " in f" {folded} " and type_id in types:
            return type_id
    return None


def guess_sector(text: str) -> str | None:
    folded = fold_key(text)
    for key, label in SECTORS.items():
        if key != "other" and folded == fold_key(label):
            return key
    return None


def ineligible(answers: dict[str, Any]) -> str | None:
    """Why the facility is clearly not eligible (one or two sentences + source), or None."""
    kind = answers.get("kind")
    if kind == "large" and answers.get("support") != "cleaner":
        return (
            "Doanh nghiệp lớn không thuộc đối tượng hỗ trợ khuyến công: chỉ doanh nghiệp nhỏ "
            "và vừa, hợp tác xã, tổ hợp tác và hộ kinh doanh được hỗ trợ "
            f"({SOURCE_SUBJECTS})."
        )
    if kind == "person":
        return (
            "Cá nhân chưa đăng ký kinh doanh chưa thuộc đối tượng hỗ trợ. Bạn cần đăng ký "
            "hộ kinh doanh (hoặc tham gia tổ hợp tác, hợp tác xã) rồi làm hồ sơ "
            f"({SOURCE_SUBJECTS})."
        )
    return None


def review_notes(answers: dict[str, Any]) -> list[str]:
    """What staff should check; a non-empty list flags the draft ``needs_review``."""
    notes: list[str] = []
    kind = answers.get("kind")
    if kind == "unsure":
        notes.append("Loại hình cơ sở chưa rõ — cán bộ kiểm tra đối tượng.")
    if kind == "large" and answers.get("support") == "cleaner":
        notes.append(
            "Doanh nghiệp lớn đề nghị hỗ trợ sản xuất sạch hơn (TT 46/2012: không giới hạn "
            "quy mô) — cán bộ kiểm tra."
        )
    if answers.get("sector") == "other":
        notes.append(
            "Ngành nghề do chủ cơ sở tự ghi — cán bộ kiểm tra có thuộc danh mục ngành nghề "
            "được hỗ trợ (Điều 5 NĐ 45/2012/NĐ-CP)."
        )
    text = fold_key(f"{answers.get('sector_text', '')} {answers.get('products', '')}")
    if "gach nung" in text or "lo gach" in text:
        notes.append(
            "Có liên quan gạch nung: TT 46/2012/TT-BCT không hỗ trợ lò gạch nung thủ công, "
            "lò vòng — cán bộ kiểm tra."
        )
    if answers.get("province_code") and answers.get("commune_code"):
        check = places.location_test(answers["province_code"], answers["commune_code"])
        if not check.ok:
            notes.append(check.note)
    if answers.get("support") == "startup":
        notes.append(
            "Hỗ trợ thành lập doanh nghiệp chỉ áp dụng ở địa bàn khó khăn, đặc biệt khó khăn "
            "— cán bộ kiểm tra địa bàn."
        )
    if answers.get("support") == "other":
        notes.append("Nội dung hỗ trợ «khác» — cán bộ xem phần việc định làm.")
    if "reg_no" in answers and not answers.get("reg_no"):
        notes.append("Chưa có số đăng ký kinh doanh/mã số thuế.")
    return notes


def sector_text(answers: dict[str, Any]) -> str:
    sector = answers.get("sector")
    if sector == "other":
        return str(answers.get("sector_text") or "")
    term = vocabulary().sector(str(sector))
    return term.label if term is not None else ""


def estimate_for(answers: dict[str, Any], centre_name: str) -> Any:
    support = answers.get("support")
    if not support or catalogue().get(support) is None:
        return None
    return catalogue().estimate(support, answers.get("cost"), centre_name)


def estimate_line(answers: dict[str, Any], centre_name: str) -> str | None:
    """The estimate as one line for the chat ("Mức hỗ trợ tối đa ước tính: …"), or None."""
    est = estimate_for(answers, centre_name)
    if est is None:
        return None
    if est.amount is None:
        return str(est.text)
    st = est.support_type
    note = f" {st.note}" if st.note else ""
    return f"Mức hỗ trợ tối đa ước tính: {money_words(est.amount)}.{note} Nguồn: {st.source}."


def display(answers: dict[str, Any], step_id: str) -> str:
    """An answer as the summary shows it; "—" when not given."""
    value = answers.get(step_id)
    if step_id == "support":
        st = catalogue().get(value)
        return st.label if st else "—"
    if step_id == "kind":
        return KINDS.get(str(value), "—")
    if step_id == "sector":
        return sector_text(answers) or "—"
    if step_id == "province":
        return str(answers.get("province") or "—")
    if step_id == "commune":
        return str(answers.get("commune") or "—")
    if step_id == "reg_no":
        if "reg_no" in answers and not value:
            return "(chưa có)"
        return str(value or "—")
    if step_id in ("cost", "counterpart"):
        return money_words(value) if isinstance(value, int) else "—"
    if step_id == "workers":
        return f"{value} người" if isinstance(value, int) else "—"
    return str(value) if value not in (None, "") else "—"


def draft_fields(answers: dict[str, Any], centre_name: str) -> dict[str, Any]:
    """The draft's columns derived from the answers."""
    est = estimate_for(answers, centre_name)
    notes = review_notes(answers)
    return {
        "support_type": answers.get("support"),
        "facility_kind": answers.get("kind"),
        "sector": sector_text(answers) or None,
        "province": answers.get("province"),
        "province_code": answers.get("province_code"),
        "commune": answers.get("commune"),
        "commune_code": answers.get("commune_code"),
        "facility_name": answers.get("facility_name"),
        "reg_no": answers.get("reg_no") or None,
        "owner_name": answers.get("owner_name"),
        "phone": answers.get("phone"),
        "products": answers.get("products"),
        "workers": answers.get("workers"),
        "plan": answers.get("plan"),
        "estimated_cost": answers.get("cost"),
        "counterpart_funds": answers.get("counterpart"),
        "estimated_support": est.amount if est is not None else None,
        "expected_results": answers.get("results"),
        "needs_review": bool(notes),
        "review_notes": notes,
    }


def document_data(draft: Any) -> dict[str, Any]:
    """What ``handlers.intake.document`` needs, from a Draft row."""
    answers = dict(draft.answers or {})
    st = catalogue().get(draft.support_type)
    return {
        "id": draft.id,
        "support_label": st.label if st else (draft.support_type or ""),
        "facility_name": draft.facility_name or "",
        "facility_kind": KINDS.get(draft.facility_kind or "", ""),
        "reg_no": draft.reg_no or "",
        "owner_name": draft.owner_name or "",
        "phone": draft.phone or "",
        "province": answers.get("province_full") or draft.province or "",
        "commune": draft.commune or "",
        "sector": draft.sector or "",
        "products": draft.products or "",
        "workers": draft.workers,
        "plan": draft.plan or "",
        "estimated_cost": draft.estimated_cost,
        "counterpart_funds": draft.counterpart_funds,
        "estimated_support": draft.estimated_support,
        "expected_results": draft.expected_results or "",
        "confirmed_at": draft.confirmed_at or draft.created_at,
    }
