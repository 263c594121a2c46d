"""The filled request "Đơn đề nghị hỗ trợ kinh phí khuyến công" as a DOCX (python-docx).

Laid out as such a request is: national motto heading, title, addressee, the facility's
data, the plan, the amounts, commitments, place and date, signature block. The owner
prints it, checks it, signs it and submits it with the dossier.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TITLE = "ĐƠN ĐỀ NGHỊ HỖ TRỢ KINH PHÍ KHUYẾN CÔNG"


def _vnd(amount: int | None) -> str:
    if amount is None:
        return "…………… đồng"
    return f"{amount:,}".replace(",", ".") + " đồng"


def _place(commune: str) -> str:
    for prefix in ("Xã ", "Phường ", "Đặc khu "):
        if commune.startswith(prefix):
            return commune[len(prefix) :]
    return commune or "……………"


def filename_for(data: Mapping[str, Any]) -> str:
    return f"don-de-nghi-ho-tro-khuyen-cong-{data.get('id', 'moi')}.docx"


def build_request_docx(data: Mapping[str, Any], *, centre_name: str) -> bytes:
    """The request for one draft (see ``handlers.intake_steps.document_data``)."""
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

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

    para(TITLE, bold=True, center=True, size=15, after=2)
    para(f"Nội dung: {data.get('support_label', '')}", italic=True, center=True, after=12)
    p = para(f"Kính gửi: {centre_name}", bold=True, after=12)
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER

    para("I. THÔNG TIN CƠ SỞ", bold=True)
    field("1. Tên cơ sở", str(data.get("facility_name") or ""))
    field("2. Loại hình", str(data.get("facility_kind") or ""))
    field("3. Số đăng ký kinh doanh / mã số thuế", str(data.get("reg_no") or ""))
    field("4. Họ tên chủ cơ sở (người đại diện)", str(data.get("owner_name") or ""))
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
        ("Tổng kinh phí thực hiện", _vnd(data.get("estimated_cost"))),
        ("Vốn đối ứng của cơ sở", _vnd(data.get("counterpart_funds"))),
        (
            "Kinh phí khuyến công đề nghị hỗ trợ (dự kiến)",
            _vnd(support) if support is not None else "Theo mức Trung tâm xác định",
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
    name.add_run(str(data.get("owner_name") or "")).bold = True

    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
