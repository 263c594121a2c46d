"""The intake dialogue through the engine, on SQLite and PostgreSQL: read like the chat."""

from __future__ import annotations

from bot.app import build_app
from db.repos.drafts import DraftRepo
from knowledge import places
from tests.auxil.app import ChatUser, make_settings
from tests.auxil.intake import DOCX, docx_text, drafts_of, fill_until_summary, open_intake


async def test_whole_intake_without_diacritics_with_mistakes(app):
    user = ChatUser(app)
    await user.send("/start")
    await open_intake(user)
    assert "Bước 1/15" in user.text
    await user.send("mua may moc")  # typed instead of tapped
    assert "Bước 2/15" in user.text
    await user.send("ho kinh doanh")
    assert "Bước 3/15" in user.text
    await user.tap("Ngành khác")
    await user.send("che bien go")
    assert "Bước 4/15" in user.text
    await user.send("quang nam")  # old province name
    assert "Quảng Nam nay thuộc thành phố Đà Nẵng" in user.text
    await user.tap("Đà Nẵng")
    assert "Bước 5/15" in user.text and "của thành phố Đà Nẵng?" in user.text
    await user.send("duy xuyenn")  # typo
    assert "Xã Duy Xuyên" in user.labels[0]
    await user.tap("Duy Xuyên")
    assert "Bước 6/15" in user.text
    await user.send("Xuong moc Minh Phat")
    await user.send("0123 456 789 001")  # 13-digit tax code with spaces
    assert "Bước 8/15" in user.text
    await user.send("Tran Thi Binh")
    await user.send("0912.345.67")  # a digit short
    assert "Bước 9/15" in user.text and "10 số" in user.text
    await user.send("+84 912 345 678")
    await user.send("ban ghe go")
    await user.send("muoi hai")  # words, not digits
    assert "Bước 11/15" in user.text and "Ví dụ: 12" in user.text
    await user.send("12 nguoi")
    await user.send("mua may cha nham CNC")
    await user.send("350")  # no unit
    assert "triệu hay tỷ" in user.text and "Bước 13/15" in user.text
    await user.send("1,2 ty")
    # the line cap: 50% of 1,2 tỷ > 300 triệu
    assert "Mức hỗ trợ tối đa ước tính: 300 triệu đồng." in user.text
    await user.send("2 ty")  # more than the cost
    assert "Vốn đối ứng không được lớn hơn tổng chi phí (1,2 tỷ đồng)." in user.text
    await user.send("600.000.000 đ")
    await user.send("tang nang suat 30%, them 5 lao dong")
    summary = user.text
    for expected in [
        "Máy móc, thiết bị tiên tiến",
        "Hộ kinh doanh",
        "che bien go",
        "Thành phố Đà Nẵng",
        "Xã Duy Xuyên",
        "0123456789-001",
        "0912345678",
        "1,2 tỷ đồng",
        "600 triệu đồng",
        "Mức hỗ trợ tối đa ước tính: 300 triệu đồng",
        "Thông tư 28/2018/TT-BTC",
        "Số tiền chỉ là ước tính; Trung tâm và quy định hiện hành của tỉnh quyết định.",
    ]:
        assert expected in summary, expected
    assert "đồng (" not in summary  # no nested brackets around amounts
    # The longer caveats and what staff will check are one tap away, not in the summary.
    assert "cán bộ kiểm tra" not in summary and "64/2024" not in summary
    await user.tap("Lưu ý về ước tính")
    assert "64/2024/TT-BTC" in user.text
    assert "cán bộ kiểm tra có thuộc danh mục" in user.text  # typed sector is flagged
    assert "✅ Xác nhận, lưu hồ sơ" in user.labels and "⬅️ Về bản tóm tắt" in user.labels
    await user.tap("Về bản tóm tắt")
    assert "Xem lại hồ sơ" in user.text
    replies = await user.tap("Xác nhận")
    assert "Đã lưu hồ sơ #" in user.text
    [doc_reply] = [r for r in replies if r.document is not None]
    assert doc_reply.document.mime_type == DOCX
    assert doc_reply.document.filename.endswith(".docx")
    text = docx_text(doc_reply.document.content)
    for expected in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "ĐƠN ĐỀ NGHỊ HỖ TRỢ KINH PHÍ KHUYẾN CÔNG",
        "Kính gửi: Trung tâm Khuyến công tỉnh Thử Nghiệm",
        "Xuong Moc Minh Phat",  # typed without diacritics: each word capitalised
        "Tran Thi Binh",
        "0912345678",
        "Xã Duy Xuyên, Thành phố Đà Nẵng",
        "1.200.000.000 đồng",
        "600.000.000 đồng",
        "300.000.000 đồng",
        "vốn đối ứng",
        "chưa nhận hỗ trợ từ bất kỳ nguồn kinh phí nào khác",
        "đúng sự thật",
        "Duy Xuyên, ngày",
    ]:
        assert expected in text, expected
    [draft] = await drafts_of(app)
    assert draft.status == "draft"
    assert draft.support_type == "machinery"
    assert draft.estimated_cost == 1_200_000_000
    assert draft.counterpart_funds == 600_000_000
    assert draft.estimated_support == 300_000_000
    assert draft.phone == "0912345678"
    assert draft.needs_review is True
    async with app.sessions() as session:
        [event] = await DraftRepo(session).history(draft.id)
        assert (event.from_status, event.to_status) == ("in_progress", "draft")
        assert event.actor == "owner:telegram:1001"
    # The dialogue is over: free text goes back to the menu/FAQ.
    await user.send("/hoso")
    assert f"#{draft.id}" in user.text and "Bản nháp" in user.text
    replies = await user.tap(f"Gửi lại đơn #{draft.id}")
    assert replies[0].document is not None


async def test_shared_contact_fills_the_phone(app):
    user = ChatUser(app)
    await fill_until_summary(user)
    await user.tap("Sửa một mục")
    await user.tap("Điện thoại")
    assert any(r.request_phone for r in user.last)
    assert "Bước 9/15" in user.text
    await user.send(phone="84987654321")
    assert "0987654321" in user.text and "Xem lại hồ sơ" in user.text


async def test_every_step_rejects_junk_and_asks_again(app):
    user = ChatUser(app)
    await user.send("/start")
    await open_intake(user)
    junk = ["😀😀", "x" * 10_000, "   ", "'; DROP TABLE drafts; --"]
    for text in junk:
        await user.send(text)
        assert "Bước 1/15" in user.text
    await user.tap("Máy móc")
    await user.send("linh tinh")
    assert "Bước 2/15" in user.text and "Ví dụ" in user.text
    await user.tap("Hộ kinh doanh")
    await user.tap("Ngành khác")
    assert "gõ tên ngành" in user.text
    await user.send("😀")
    assert "Bước 3/15" in user.text
    await user.send("x" * 5000)
    assert "dài quá" in user.text and "Bước 3/15" in user.text
    await user.send("det vai")
    await user.send("khong co tinh nay")
    assert "không tìm thấy" in user.text and "Bước 4/15" in user.text
    await user.send("thanh hao")  # typo: candidates to confirm
    assert user.labels[0] == "📍 Thanh Hóa"
    await user.tap("Nhập lại")
    assert "Bước 4/15" in user.text
    await user.send("Thanh Hoa")
    await user.tap("Thanh Hóa")
    await user.send("zzzz qqqq")
    assert "không tìm thấy" in user.text and "Bước 5/15" in user.text
    await user.send("hoang hoa")
    await user.tap("Hoằng Hóa")
    await user.send("🙂🙂")
    assert "Bước 6/15" in user.text
    await user.send("Co so det Hoang Hoa")
    await user.send("so dang ky 1")
    assert "chưa đúng dạng" in user.text and "Bước 7/15" in user.text
    await user.send("bo qua")
    assert "Bước 8/15" in user.text
    await user.send("Nguyen Van 3")
    assert "không có chữ số" in user.text
    await user.send("Le Van Cuong")
    for bad in ["abc", "0236 3812345", "123"]:
        await user.send(bad)
        assert "Bước 9/15" in user.text, bad
    await user.send(phone="+1 202 555 0101")
    assert "Bước 9/15" in user.text
    await user.send("0912345678")
    await user.send("vai det")
    for bad in ["nhieu", "-3", "5 6", "9999999"]:
        await user.send(bad)
        assert "Bước 11/15" in user.text, bad
    await user.send("25")
    await user.send("mua may det")
    for bad in ["nhieu tien", "350", "abc 350 trieu", "5000 ty", "😀"]:
        await user.send(bad)
        assert "Bước 13/15" in user.text and "Ví dụ" in user.text, bad
    await user.send("350.000.000")
    await user.send("400 trieu")
    assert "Bước 14/15" in user.text
    await user.send("100 trieu")
    await user.send("")
    assert "Bước 15/15" in user.text
    await user.send("tang san luong")
    assert "Xem lại hồ sơ" in user.text
    await user.send("hmm")
    assert "Xác nhận" in user.text
    await user.send("xac nhan")
    assert "Đã lưu hồ sơ" in user.text


async def test_money_forms_all_accepted(app):
    from handlers.intake.parse import parse_money

    for text, value in [
        ("350 triệu", 350_000_000),
        ("350tr", 350_000_000),
        ("350 tr", 350_000_000),
        ("1,2 tỷ", 1_200_000_000),
        ("1.2 ty", 1_200_000_000),
        ("350000000", 350_000_000),
        ("350.000.000", 350_000_000),
        ("350,000,000 đ", 350_000_000),
        ("2 ty 300 trieu", 2_300_000_000),
    ]:
        assert parse_money(text) == value, text


async def test_back_and_edit_from_summary(app):
    user = ChatUser(app)
    await user.send("/start")
    await open_intake(user)
    assert "⬅️ Quay lại" not in user.labels  # nothing to go back to: leave instead
    await user.send("quay lai")
    assert "câu đầu tiên" in user.text and "Bước 1/15" in user.text
    await user.tap("Máy móc")
    await user.tap("Hợp tác xã")
    await user.send("quay lai")
    assert "Bước 2/15" in user.text and "Hiện tại: Hợp tác xã" in user.text
    await user.tap("Giữ nguyên")
    assert "Bước 3/15" in user.text
    await user.send("Quay lại")
    await user.send("quay lại")
    assert "Bước 1/15" in user.text and "Máy móc" in user.text
    await user.tap("Mô hình trình diễn")
    assert "Bước 2/15" in user.text

    user2 = ChatUser(app, chat_id="2002")
    await fill_until_summary(user2)
    await user2.tap("Quay lại")
    assert "Bước 15/15" in user2.text
    await user2.send("tang nang suat 50%")
    assert "Xem lại hồ sơ" in user2.text and "50%" in user2.text
    await user2.tap("Sửa một mục")
    await user2.tap("Chi phí dự kiến")
    assert "Bước 13/15" in user2.text and "⬅️ Về bản tóm tắt" in user2.labels
    await user2.send("100 trieu")  # now smaller than the counterpart funds (200 triệu)
    assert "Bước 14/15" in user2.text
    await user2.send("50 trieu")
    assert "Xem lại hồ sơ" in user2.text
    assert "100 triệu đồng" in user2.text and "50 triệu đồng" in user2.text
    await user2.tap("Sửa một mục")
    await user2.tap("Tỉnh/thành phố")
    await user2.send("ha noi")
    await user2.tap("Hà Nội")
    assert "Bước 5/15" in user2.text  # a new province needs its commune
    await user2.send("phuong hoan kiem")
    await user2.tap("Hoàn Kiếm")
    assert "phường của thành phố trực thuộc trung ương" in user2.text
    assert "Xem lại hồ sơ" in user2.text and "Phường Hoàn Kiếm" in user2.text
    await user2.tap("Sửa một mục")
    await user2.tap("Tên cơ sở")
    await user2.tap("Về bản tóm tắt")
    assert "Xem lại hồ sơ" in user2.text
    await user2.tap("Xác nhận")
    [draft] = await drafts_of(app, "2002")
    assert draft.province == "Thành phố Hà Nội" and draft.commune == "Phường Hoàn Kiếm"
    assert draft.needs_review is True
    assert any("phường" in n for n in draft.review_notes)
    assert draft.estimated_support == 50_000_000


async def test_cancel_then_resume_or_start_again(app):
    user = ChatUser(app)
    await user.send("/start")
    await open_intake(user)
    await user.tap("Máy móc")
    await user.tap("Hộ kinh doanh")
    await user.tap("Thủ công mỹ nghệ")
    await user.send("/cancel")
    assert "Đã dừng" in user.text
    await user.send("hello")  # not taken as an answer any more
    [draft] = await drafts_of(app)
    assert draft.status == "in_progress" and draft.answers["sector"] == "craft"
    await user.send("/menu")
    await open_intake(user)
    assert "đang làm dở hồ sơ" in user.text and "3/15" in user.text
    await user.send("tiep di")
    assert "đang làm dở hồ sơ" in user.text  # still asks to choose
    await user.tap("Tiếp tục")
    assert "Bước 4/15" in user.text
    await user.send("quay lai")
    assert "Hiện tại: Thủ công mỹ nghệ" in user.text
    await user.send("/cancel")
    await user.send("/hoso")
    assert "Đang làm dở" in user.text
    await user.tap("Tiếp tục hồ sơ đang làm")
    assert "Bước 3/15" in user.text
    await user.send("/cancel")
    await user.send("/menu")
    await open_intake(user)
    await user.tap("Làm lại")
    assert "Bước 1/15" in user.text and "Hiện tại" not in user.text
    drafts = await drafts_of(app)
    assert sorted(d.status for d in drafts) == ["abandoned", "in_progress"]
    # A button of the abandoned run is stale now: the current question comes again.
    await user.send(payload="intake:pick:kind:hkd")
    assert "Bước 1/15" in user.text


async def test_a_restart_mid_dialogue_loses_nothing(db_url):
    app = await build_app(make_settings(db_url))
    user = ChatUser(app)
    await user.send("/start")
    await open_intake(user)
    await user.tap("Dây chuyền")
    await user.send("hop tac xa")
    await user.tap("Chế biến")
    await user.send("quang ngai")
    await app.close()

    app2 = await build_app(make_settings(db_url))
    try:
        user = ChatUser(app2)
        await user.send(payload="intake:prov:51")  # the confirmation button sent before
        assert "Bước 5/15" in user.text and "Quảng Ngãi" in user.text
        await user.send("quay lai")
        assert "Hiện tại: Quảng Ngãi" in user.text
        [draft] = await drafts_of(app2)
        assert draft.answers["support"] == "line" and draft.answers["kind"] == "coop"
    finally:
        await app2.close()


async def test_large_enterprise_is_told_why_and_offered_staff(app):
    user = ChatUser(app)
    await user.send("/start")
    await open_intake(user)
    await user.tap("Máy móc")
    await user.tap("Doanh nghiệp lớn")
    assert "Doanh nghiệp lớn không thuộc đối tượng" in user.text
    assert "Nghị định 235/2025/NĐ-CP" in user.text
    assert "☎️ Liên hệ cán bộ" in user.labels
    await user.tap("Chọn lại loại hình")
    await user.send("xac nhan")
    assert "Bước 2/15" in user.text  # stays on the question
    await user.tap("Giữ nguyên")  # keeping the same answer is checked again
    assert "không thuộc đối tượng" in user.text
    await user.tap("Liên hệ cán bộ")
    assert "0235 3812 345" in user.text


async def test_unregistered_individual_must_register_a_household_business(app):
    user = ChatUser(app)
    await user.send("/start")
    await open_intake(user)
    await user.tap("Đào tạo")
    await user.send("ca nhan chua dang ky")
    assert "đăng ký hộ kinh doanh" in user.text
    await user.tap("Chọn lại loại hình")
    await user.tap("Hộ kinh doanh")
    assert "Bước 3/15" in user.text


async def test_content_without_a_level_says_so(app):
    user = ChatUser(app, chat_id="3003")
    await user.send("/start")
    await open_intake(user)
    await user.tap("Hội chợ")
    await user.tap("Tổ hợp tác")
    await user.tap("Chế biến")
    await user.send("Ca Mau")
    await user.tap("Cà Mau")
    await user.send("xa Dam Doi")
    await user.tap("Đầm Dơi")
    for text in ["THT banh phong tom", "bo qua", "Pham Thi Dung", "0987654321", "banh phong tom"]:
        await user.send(text)
    for text in ["8", "du hoi cho tai Ha Noi", "50 trieu", "20 trieu", "them khach hang"]:
        await user.send(text)
    assert "Chưa có mức hỗ trợ cho nội dung này" in user.text
    assert "Ước tính tối đa" not in user.text
    await user.tap("Xác nhận")
    [draft] = await drafts_of(app, "3003")
    assert draft.estimated_support is None


async def test_two_users_interleaved_never_mix(app):
    an, binh = ChatUser(app, chat_id="501", name="An"), ChatUser(app, chat_id="502", name="Bình")
    for u in (an, binh):
        await u.send("/start")
        await open_intake(u)
    await an.tap("Máy móc")
    await binh.tap("Mô hình")
    await an.tap("Hộ kinh doanh")
    await binh.tap("Doanh nghiệp nhỏ")
    assert "Bước 3/15" in an.text and "Bước 3/15" in binh.text
    # Bình taps An's old button payload: it's a stale button in Bình's chat.
    await binh.send(payload="intake:pick:kind:hkd")
    assert "Bước 3/15" in binh.text
    an_drafts, binh_drafts = await drafts_of(app, "501"), await drafts_of(app, "502")
    assert an_drafts[0].answers == {"support": "machinery", "kind": "hkd"}
    assert binh_drafts[0].answers == {"support": "demo", "kind": "sme"}
    # Nobody can fetch another user's document.
    await fill_until_summary(ChatUser(app, chat_id="503"))
    other = ChatUser(app, chat_id="503")
    await other.send("xac nhan")
    [saved] = await drafts_of(app, "503")
    await an.send(payload=f"intake:doc:{saved.id}")
    assert "không tìm thấy" in an.text and an.last[0].document is None


async def _to_province_step(user: ChatUser) -> None:
    await user.send("/start")
    await open_intake(user)
    await user.tap("Máy móc")
    await user.tap("Hộ kinh doanh")
    await user.tap("Thủ công mỹ nghệ")
    assert "Bước 4/15" in user.text


async def test_a_commune_typed_at_the_province_step_is_offered_with_its_province(app):
    user = ChatUser(app)
    await _to_province_step(user)
    await user.send("phu vang")  # was read as "Hậu Giang nay thuộc Thành phố Cần Thơ"
    assert "Cần Thơ" not in user.text and "Hậu Giang" not in user.text
    assert "Có phải xã Phú Vang, thành phố Huế?" in user.text
    await user.tap("Phú Vang")
    assert "Bước 6/15" in user.text  # province and commune answered at once
    [draft] = await drafts_of(app)
    assert draft.province == "Thành phố Huế" and draft.commune == "Xã Phú Vang"
    await user.send("quay lai")
    await user.send("quay lai")
    assert "Bước 4/15" in user.text and "Hiện tại: Thành phố Huế" in user.text
    await user.send("dien ban")  # not "Điện Biên"
    assert "Có phải phường Điện Bàn, thành phố Đà Nẵng?" in user.text
    await user.tap("Nhập lại")
    await user.send("khong co tinh nay")
    assert "không tìm thấy" in user.text and "ví dụ: Quảng Ngãi" in user.text
    assert "Bước 4/15" in user.text


async def test_the_commune_example_comes_from_the_chosen_province(app):
    user = ChatUser(app)
    await _to_province_step(user)
    await user.send("quang ngai")
    await user.tap("Quảng Ngãi")
    example = places.example_commune(51)
    assert places.commune_by_code(places.match_commune(51, example)[0].code).province_code == 51
    assert f"Ví dụ: {example}" in user.text and "Hòa Vang" not in user.text
    await user.send("zzzz qqqq")
    assert f"ví dụ: {example}." in user.text and "Hòa Vang" not in user.text


async def test_typed_keep_skip_and_back_on_a_channel_without_buttons(app):
    user = ChatUser(app, chat_id="7007", channel="terminal")
    await fill_until_summary(user)
    await user.tap("Sửa một mục")
    await user.tap("Số lao động")
    assert "Bước 11/15" in user.text and "✔️ Giữ nguyên" in user.labels
    await user.send("giu nguyen")  # "1" would be the answer here: the words keep it
    assert "Xem lại hồ sơ" in user.text and "12 người" in user.text
    for step_label, typed in [("Chi phí dự kiến", "GIỮ NGUYÊN"), ("Vốn đối ứng", "Giữ nguyên")]:
        await user.tap("Sửa một mục")
        await user.tap(step_label)
        await user.send(typed)
        assert "Xem lại hồ sơ" in user.text, step_label
    assert "350 triệu đồng" in user.text and "200 triệu đồng" in user.text
    await user.tap("Sửa một mục")
    await user.tap("Số lao động")
    await user.send("1")  # at a numeric step a typed number is the answer
    assert "1 người" in user.text
    await user.tap("Sửa một mục")
    await user.tap("Số đăng ký")
    await user.send("Bỏ qua")
    assert "(chưa có)" in user.text
    await user.tap("Sửa một mục")
    await user.tap("Tỉnh/thành phố")
    await user.send("giu nguyen")  # not matched to a province
    assert "Xem lại hồ sơ" in user.text and "Quảng Ngãi" in user.text


async def test_phone_step_without_telegram_mentions_no_share_button(app):
    user = ChatUser(app, chat_id="7008", channel="zalo")
    await fill_until_summary(user)
    await user.tap("Sửa một mục")
    await user.tap("Điện thoại")
    assert "Bước 9/15" in user.text
    assert "Chia sẻ" not in user.text and "Hoặc gõ" not in user.text
    assert not any(r.request_phone for r in user.last)
    tg = ChatUser(app, chat_id="7009")
    await fill_until_summary(tg)
    await tg.tap("Sửa một mục")
    await tg.tap("Điện thoại")
    assert "Chia sẻ số điện thoại" in tg.text and tg.text.count("gõ số") == 1


async def test_exit_on_the_first_step_keeps_the_draft(app):
    user = ChatUser(app)
    await user.send("/start")
    await open_intake(user)
    assert "✖️ Thoát" in user.labels and "⬅️ Quay lại" not in user.labels
    await user.tap("Máy móc")
    await user.send("quay lai")
    await user.tap("Thoát")
    assert "Đã dừng" in user.text and "vẫn được lưu" in user.text
    await user.send("ho kinh doanh")  # not an answer any more
    [draft] = await drafts_of(app)
    assert draft.status == "in_progress" and draft.answers == {"support": "machinery"}


async def test_names_without_diacritics_get_one_tip_and_capitals_in_the_document(app):
    user = ChatUser(app)
    await _to_province_step(user)
    await user.send("quang ngai")
    await user.tap("Quảng Ngãi")
    await user.send("xa nghia hanh")
    await user.tap("Nghĩa Hành")
    await user.send("co so may tre minh phat")
    assert "Mẹo: gõ có dấu để đơn in ra đúng tên" in user.text and "Bước 7/15" in user.text
    await user.send("bo qua")
    await user.send("x" * 101)
    assert "Họ tên chủ cơ sở dài quá" in user.text
    await user.send("nguyen van hung")
    assert "Mẹo" not in user.text and "Bước 9/15" in user.text  # once only
    for text in ["0912345678", "ban ghe", "12", "mua may", "350 trieu", "200 trieu", "tot"]:
        await user.send(text)
    replies = await user.tap("Xác nhận")
    [doc] = [r.document for r in replies if r.document is not None]
    text = docx_text(doc.content)
    assert "Nguyen Van Hung" in text and "Co So May Tre Minh Phat" in text


async def test_my_drafts_show_the_staff_note_of_the_latest_change(app):
    user = ChatUser(app)
    await fill_until_summary(user)
    await user.tap("Xác nhận")
    [draft] = await drafts_of(app)
    await user.send("/hoso")
    assert "Ghi chú của cán bộ" not in user.text  # the owner's own confirmation note
    async with app.sessions() as session, session.begin():
        repo = DraftRepo(session)
        row = await repo.get(draft.id)
        await repo.set_status(
            row, "needs_changes", actor="staff:lan", note="Bổ sung báo giá máy chà nhám."
        )
    await user.send("/hoso")
    assert "Cần bổ sung, chỉnh sửa" in user.text
    assert "Ghi chú của cán bộ: Bổ sung báo giá máy chà nhám." in user.text
