"""What the form engine takes as quit, skip, keep, back, «tất cả» — and as a question."""

from __future__ import annotations

import pytest

from handlers.forms import words

QUIT = ["hủy", "huỷ", "HUỶ", "huy", "thôi", "thoi", "thoát", "thoat", "dừng", "dung", "  Thôi! "]


@pytest.mark.parametrize("typed", QUIT)
def test_quit_words_alone(typed):
    assert words.is_quit(typed)


@pytest.mark.parametrize("typed", ["đúng", "Đúng", "hủy hồ sơ cũ của tôi", "thôi được, làm tiếp"])
def test_not_quit(typed):
    assert not words.is_quit(typed)


def test_skip_keep_back_all():
    assert words.is_skip("Bỏ qua") and words.is_skip("bo qua")
    assert words.is_keep("giữ nguyên") and words.is_back("quay lại")
    assert words.is_all("tất cả") and words.is_all("tat ca")
    assert not words.is_skip("không có")  # "none yet" is only a skip where a step says so


@pytest.mark.parametrize(
    "typed",
    [
        "có mất phí không?",
        "ho so nay co mat phi khong?",
        "hồ sơ có mất phí không",
        "hỗ trợ bao nhiêu",
        "làm hồ sơ thế nào",
        "cần giấy tờ gì",
        "ai được hỗ trợ",
    ],
)
def test_questions(typed):
    assert words.looks_like_question(typed)


@pytest.mark.parametrize(
    "typed",
    [
        "Nguyễn Văn An",
        "Quảng Ngãi",
        "Cơ sở mộc Minh Phát",
        "350 triệu",
        "mua 1 máy chà nhám và 1 máy cưa CNC",
        "",
        "👍",
    ],
)
def test_answers_are_not_questions(typed):
    assert not words.looks_like_question(typed)
