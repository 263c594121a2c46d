"""The request document opens in python-docx and holds the facility's data."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from docx import Document

from handlers.intake.document import addressee, build_request_docx, filename_for, name_case

DATA = {
    "id": 7,
    "support_label": "Máy móc, thiết bị tiên tiến",
    "facility_name": "Cơ sở mộc Minh Phát",
    "facility_kind": "Hộ kinh doanh",
    "reg_no": "0123456789",
    "owner_name": "Nguyễn Văn An",
    "phone": "0912345678",
    "province": "Quảng Ngãi",
    "commune": "Xã Nghĩa Hành",
    "sector": "Thủ công mỹ nghệ",
    "products": "bàn ghế gỗ",
    "workers": 12,
    "plan": "mua máy chà nhám",
    "estimated_cost": 350_000_000,
    "counterpart_funds": 200_000_000,
    "estimated_support": 150_000_000,
    "expected_results": "tăng năng suất 30%",
    "confirmed_at": datetime(2026, 11, 24, 20, 0, tzinfo=UTC),  # 25/11 in Vietnam
}


def _text(content: bytes) -> str:
    doc = Document(io.BytesIO(content))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts)


def test_request_holds_heading_addressee_data_commitments_and_signature():
    text = _text(build_request_docx(DATA, centre_name="Trung tâm Khuyến công tỉnh Quảng Ngãi"))
    for expected in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "ĐƠN ĐỀ NGHỊ HỖ TRỢ KINH PHÍ KHUYẾN CÔNG",
        "Kính gửi: Trung tâm Khuyến công tỉnh Quảng Ngãi",
        "Cơ sở mộc Minh Phát",
        "Hộ kinh doanh",
        "0123456789",
        "Nguyễn Văn An",
        "0912345678",
        "Xã Nghĩa Hành, Quảng Ngãi",
        "12 người",
        "mua máy chà nhám",
        "350.000.000 đồng",
        "200.000.000 đồng",
        "150.000.000 đồng",
        "vốn đối ứng",
        "chưa nhận hỗ trợ từ bất kỳ nguồn kinh phí nào khác của Nhà nước",
        "đúng sự thật",
        "Nghĩa Hành, ngày 25 tháng 11 năm 2026",
        "CHỦ CƠ SỞ / NGƯỜI ĐẠI DIỆN",
        "(Ký, ghi rõ họ tên, đóng dấu nếu có)",
    ]:
        assert expected in text, expected
    assert filename_for(DATA) == "don-de-nghi-ho-tro-khuyen-cong-7.docx"


def test_missing_amounts_leave_blanks_to_fill():
    data = {**DATA, "reg_no": "", "estimated_support": None}
    text = _text(build_request_docx(data, centre_name="Trung tâm"))
    assert "Theo mức Trung tâm xác định" in text
    assert "……" in text


def test_generic_centre_name_is_completed_with_the_province():
    text = _text(build_request_docx(DATA, centre_name="Trung tâm Khuyến công tỉnh"))
    assert "Kính gửi: Trung tâm Khuyến công tỉnh Quảng Ngãi" in text
    data = {**DATA, "province": "Thành phố Đà Nẵng"}
    text = _text(build_request_docx(data, centre_name="Trung tâm Khuyến công tỉnh"))
    assert "Kính gửi: Trung tâm Khuyến công thành phố Đà Nẵng" in text
    assert addressee("Trung tâm Khuyến công tỉnh", "Tỉnh Quảng Ngãi") == (
        "Trung tâm Khuyến công tỉnh Quảng Ngãi"
    )
    assert addressee("Trung tâm KC Huế", "Thành phố Huế") == "Trung tâm KC Huế"


def test_legal_basis_dossier_list_and_content_once():
    text = _text(build_request_docx(DATA, centre_name="Trung tâm Khuyến công tỉnh Quảng Ngãi"))
    basis = text.index("Căn cứ Nghị định số 45/2012/NĐ-CP ngày 21/5/2012 của Chính phủ")
    assert "Nghị định số 235/2025/NĐ-CP;" in text
    assert basis < text.index("I. THÔNG TIN CƠ SỞ")
    assert "Nội dung:" not in text and text.count("Máy móc, thiết bị tiên tiến") == 1
    tail = text[text.index("Hồ sơ kèm theo") :]
    for item in [
        "Bản sao giấy chứng nhận đăng ký kinh doanh",
        "Thuyết minh đề án/phương án",
        "Báo giá máy móc, thiết bị (nếu có)",
        "theo hướng dẫn của Trung tâm",
    ]:
        assert item in tail, item


def test_names_without_diacritics_are_capitalised():
    data = {**DATA, "owner_name": "nguyen van hung", "facility_name": "co so moc CNC"}
    text = _text(build_request_docx(data, centre_name="Trung tâm"))
    assert "Nguyen Van Hung" in text and "Co So Moc CNC" in text
    assert name_case("cơ sở mộc Minh Phát") == "cơ sở mộc Minh Phát"  # typed with care
