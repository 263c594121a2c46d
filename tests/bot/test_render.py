"""The one renderer: channel-neutral replies as each kind of channel can show them."""

from __future__ import annotations

from bot.channels import Capabilities, utf16_count
from bot.render import render, split_text
from bot.transports.telegram import CAPABILITIES as TELEGRAM
from bot.transports.terminal import CAPABILITIES as TERMINAL
from bot.types import Button, Document, Reply

NO_BUTTONS = Capabilities(buttons=False, documents=False, max_text=2000)


def choices(*labels: str) -> list[list[Button]]:
    return [[Button(label, f"x:{i}")] for i, label in enumerate(labels)]


def test_buttons_stay_buttons_where_the_channel_has_them():
    [out] = render([Reply("Bạn cần gì?", buttons=choices("Hỏi đáp", "Tạo hồ sơ"))], TELEGRAM)
    assert out.text == "Bạn cần gì?"
    assert [b.label for b in out.all_buttons()] == ["Hỏi đáp", "Tạo hồ sơ"]


def test_without_buttons_choices_are_numbered_across_the_replies_of_one_answer():
    replies = [
        Reply("Nút này đã cũ.", buttons=choices("Làm lại")),
        Reply("Bước 2/15: tên cơ sở?", buttons=choices("Quay lại", "Bỏ qua", "Dừng")),
    ]
    first, second = render(replies, NO_BUTTONS)
    assert first.buttons == [] and second.buttons == []
    assert "1. Làm lại" in first.text
    assert "2. Quay lại\n3. Bỏ qua\n4. Dừng" in second.text
    assert second.text.endswith("Gõ một số từ 1 đến 4 để chọn.")  # the hint comes once, last
    assert "Gõ" not in first.text


def test_hint_wording_for_few_choices():
    [two] = render([Reply("Đồng ý?", buttons=choices("Có", "Không"))], NO_BUTTONS)
    assert two.text.endswith("Gõ 1 hoặc 2 để chọn.")
    [three] = render([Reply("Chọn", buttons=choices("A", "B", "C"))], NO_BUTTONS)
    assert three.text.endswith("Gõ 1, 2 hoặc 3 để chọn.")


def test_long_text_is_split_at_paragraphs_with_buttons_on_the_last_part():
    paragraph = "Hỗ trợ khuyến công cho cơ sở công nghiệp nông thôn. " * 12
    text = "\n\n".join([paragraph.strip()] * 6)
    parts = render([Reply(text, buttons=choices("Menu"))], NO_BUTTONS)
    assert len(parts) > 1
    assert all(len(p.text) <= 2000 for p in parts)
    assert all(p.text == paragraph.strip() or "\n\n" in p.text for p in parts)
    assert [bool(p.buttons) for p in parts] == [False] * len(parts)  # numbered instead
    assert parts[-1].text.endswith("Gõ 1 để chọn.")
    with_buttons = render([Reply(text, buttons=choices("Menu"))], TELEGRAM)
    assert [bool(p.buttons) for p in with_buttons][-1] is True
    assert not any(p.buttons for p in with_buttons[:-1])


def test_phone_request_and_documents_degrade_to_text():
    doc = Document("don-de-nghi.docx", b"PK")
    asked = Reply("Số điện thoại liên hệ? (vd: 0912 345 678)", request_phone=True)
    [plain] = render([asked], NO_BUTTONS)
    assert not plain.request_phone and plain.text == asked.text
    [kept] = render([asked], TELEGRAM)
    assert kept.request_phone
    [no_file] = render([Reply("Đơn đã điền sẵn.", document=doc)], NO_BUTTONS)
    assert no_file.document is None and "don-de-nghi.docx" in no_file.text
    [saved] = render([Reply("Đơn đã điền sẵn.", document=doc)], TERMINAL)
    assert saved.document == doc
    # A channel that sends files as links keeps the document: its sender stores it.
    links = Capabilities(buttons=True, documents=False, document_links=True)
    [linked] = render([Reply("Đơn đã điền sẵn.", document=doc)], links)
    assert linked.document == doc and linked.text == "Đơn đã điền sẵn."


def test_split_counts_the_channels_units():
    emoji = "😀" * 3000  # 6,000 UTF-16 units
    parts = split_text(emoji, 4096, utf16_count)
    assert "".join(parts) == emoji and all(utf16_count(p) <= 4096 for p in parts)
    assert split_text("x" * 10_000, 2000) == ["x" * 2000] * 5
    assert split_text("ngắn", 2000) == ["ngắn"]
