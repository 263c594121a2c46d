"""The filled request "Đơn đề nghị hỗ trợ kinh phí khuyến công" as a DOCX (python-docx).

Laid out as such a request is: national motto heading, title, addressee, the facility's
data, the plan, the amounts, commitments, place and date, signature block. The owner
prints it, checks it, signs it and submits it with the dossier.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from knowledge.formats import LOCAL_TZ, money_digits

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TITLE = "ĐƠN ĐỀ NGHỊ HỖ TRỢ KINH PHÍ KHUYẾN CÔNG"


def _place(commune: str) -> str:
    for prefix in ("Xã ", "Phường ", "Đặc khu "):
        if commune.startswith(prefix):
            return commune[len(prefix) :]
    return commune or "……………"


def addressee(centre_name: str, province: str) -> str:
    """The centre to address: the configured name, unless it is still the generic default.

    The default ("Trung tâm Khuyến công tỉnh") names no province: the province the owner
    gave is added, its unit word in lower case ("Trung tâm Khuyến công thành phố Đà Nẵng").
    """
    from bot.settings import Settings

    default = Settings.model_fields["centre_name"].default
    if centre_name.strip() != default or not province.strip():
        return centre_name
    place = province.strip()
    for word in ("Thành phố ", "Tỉnh "):
        if place.startswith(word):
            place = word.lower() + place[len(word) :]
            break
    else:
        place = f"tỉnh {place}"
    return f"Trung tâm Khuyến công {place}"


def name_case(text: str) -> str:
    """A name typed without diacritics, each word capitalised ("nguyen van hung" →
    "Nguyen Van Hung"); the rest of each word as typed ("CNC" stays), unlike ``str.title``.
    A name with diacritics was typed with care and is left as it is."""
    if re.search(r"[^\x00-\x7f]", text):
        return text
    return " ".join(w[:1].upper() + w[1:] for w in text.split())


def filename_for(data: Mapping[str, Any]) -> str:
    return f"don-de-nghi-ho-tro-khuyen-cong-{data.get('id', 'moi')}.docx"


def build_request_docx(data: Mapping[str, Any], *, centre_name: str) -> bytes:
    """The request for one draft (see ``handlers.intake.steps.document_data``)."""
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    from db.files import strip_control_all  # XML refuses control characters

    data, centre_name = strip_control_all(dict(data)), strip_control_all(centre_name)
    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin, section.right_margin = Cm(3.0), Cm(2.0)
    section.top_margin, section.bottom_margin = Cm(2.0), Cm(2.0)
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(13)

    def para(
        text: str = "",
        *,
        bold: bool = False,
        italic: bool = False,
        center: bool = False,
        size: int | None = None,
        after: int = 4,
    ) -> Any:
        p = doc.add_paragraph()
        if center:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.space_after = Pt(after)
        run = p.add_run(text)
        run.bold, run.italic = bold, italic
        if size:
            run.font.size = Pt(size)
        return p

    def field(label: str, value: str) -> None:
        p = doc.add_paragraph()
        p.paragraph_format.space_after = Pt(3)
        p.add_run(f"{label}: ")
        p.add_run(value or "……………………………………").bold = bool(value)

    # National motto heading.
    para("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, center=True, size=13, after=0)
    para("Độc lập - Tự do - Hạnh phúc", bold=True, center=True, size=14, after=0)
    para("---------------", center=True, after=12)

    moment = data.get("confirmed_at")
    local = moment.astimezone(LOCAL_TZ) if isinstance(moment, datetime) else datetime.now(LOCAL_TZ)
    date_line = (
        f"{_place(str(data.get('commune') or ''))}, ngày {local.day:02d} tháng "
        f"{local.month:02d} năm {local.year}"
    )
    para(date_line, italic=True, after=12).alignment = WD_ALIGN_PARAGRAPH.RIGHT

    para(TITLE, bold=True, center=True, size=15, after=12)
    to = addressee(centre_name, str(data.get("province") or ""))
    p = para(f"Kính gửi: {to}", bold=True, after=12)
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    para(
        "Căn cứ Nghị định số 45/2012/NĐ-CP ngày 21/5/2012 của Chính phủ về khuyến công, được "
        "sửa đổi, bổ sung bởi Nghị định số 235/2025/NĐ-CP;",
        italic=True,
    )
    para(
        "Cơ sở đề nghị được hỗ trợ kinh phí khuyến công với nội dung sau:",
        after=8,
    )

    para("I. THÔNG TIN CƠ SỞ", bold=True)
    field("1. Tên cơ sở", name_case(str(data.get("facility_name") or "")))
    field("2. Loại hình", str(data.get("facility_kind") or ""))
    field("3. Số đăng ký kinh doanh / mã số thuế", str(data.get("reg_no") or ""))
    owner = name_case(str(data.get("owner_name") or ""))
    field("4. Họ tên chủ cơ sở (người đại diện)", owner)
    field("5. Điện thoại", str(data.get("phone") or ""))
    address = ", ".join(x for x in (data.get("commune"), data.get("province")) if x)
    field("6. Địa chỉ sản xuất", address)
    field("7. Ngành nghề sản xuất", str(data.get("sector") or ""))
    field("8. Sản phẩm chính", str(data.get("products") or ""))
    workers = data.get("workers")
    field("9. Số lao động", f"{workers} người" if workers is not None else "")

    para("II. NỘI DUNG ĐỀ NGHỊ HỖ TRỢ", bold=True)
    field("1. Nội dung hỗ trợ", str(data.get("support_label") or ""))
    field("2. Việc dự kiến thực hiện", str(data.get("plan") or ""))
    field("3. Kết quả mong đợi", str(data.get("expected_results") or ""))

    para("III. KINH PHÍ DỰ KIẾN", bold=True)
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    support = data.get("estimated_support")
    rows = [
        ("Tổng kinh phí thực hiện", money_digits(data.get("estimated_cost"))),
        ("Vốn đối ứng của cơ sở", money_digits(data.get("counterpart_funds"))),
        (
            "Kinh phí khuyến công đề nghị hỗ trợ (dự kiến)",
            money_digits(support) if support is not None else "Theo mức Trung tâm xác định",
        ),
    ]
    for label, value in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value
    para(
        "Mức hỗ trợ cụ thể do cơ quan có thẩm quyền xem xét, quyết định theo quy định hiện hành.",
        italic=True,
        size=11,
        after=8,
    )

    para("IV. CAM KẾT", bold=True)
    for line in (
        "1. Những thông tin kê khai trên là đúng sự thật; cơ sở chịu trách nhiệm trước pháp "
        "luật về nội dung đã kê khai.",
        "2. Cơ sở cam kết bố trí đủ vốn đối ứng để thực hiện nội dung đề nghị hỗ trợ.",
        "3. Nội dung đề nghị hỗ trợ này chưa nhận hỗ trợ từ bất kỳ nguồn kinh phí nào khác "
        "của Nhà nước.",
        "4. Thực hiện đúng nội dung được phê duyệt, phối hợp nghiệm thu và báo cáo kết quả "
        "theo quy định.",
    ):
        para(line)

    para("", after=6)
    sign = doc.add_table(rows=1, cols=2)
    left, right = sign.rows[0].cells
    left.text = ""
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    right.paragraphs[0].add_run("CHỦ CƠ SỞ / NGƯỜI ĐẠI DIỆN").bold = True
    hint = right.add_paragraph()
    hint.alignment = WD_ALIGN_PARAGRAPH.CENTER
    hint.add_run("(Ký, ghi rõ họ tên, đóng dấu nếu có)").italic = True
    for _ in range(3):
        right.add_paragraph()
    name = right.add_paragraph()
    name.alignment = WD_ALIGN_PARAGRAPH.CENTER
    name.add_run(owner).bold = True

    # What goes with the request: reference §6 "Typical dossier"; the list is provincial.
    para("", after=6)
    para("Hồ sơ kèm theo:", bold=True)
    for line in (
        "- Bản sao giấy chứng nhận đăng ký kinh doanh / đăng ký hộ kinh doanh / đăng ký hợp "
        "tác xã;",
        "- Thuyết minh đề án/phương án (mục tiêu, quy mô, nội dung, tiến độ, dự toán kinh phí);",
        "- Báo giá máy móc, thiết bị (nếu có);",
        "- Các giấy tờ khác theo hướng dẫn của Trung tâm.",
    ):
        para(line, size=12, after=2)

    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
