"""What the privacy feature says (Vietnamese), kept apart from the behaviour.

The consent notice is versioned: a changed wording gets a new version, and the version the
person saw is recorded with their answer.
"""

from __future__ import annotations

NOTICE_VERSION = "v1"

NOTICE = {
    "v1": (
        "🔒 Trước khi làm hồ sơ, mời bạn đọc:\n"
        "• Mình sẽ lưu: tên cơ sở, họ tên chủ cơ sở, số điện thoại, mã số thuế/số đăng ký, "
        "địa chỉ, ngành nghề, sản phẩm, kế hoạch và kinh phí đầu tư bạn nhập.\n"
        "• Để: chuẩn bị hồ sơ đề nghị hỗ trợ khuyến công và để Trung tâm liên hệ với cơ sở.\n"
        "• Nơi giữ dữ liệu: {centre}.\n"
        "• Thời gian lưu: hồ sơ làm dở, bỏ ngang quá {draft_days} ngày thì tự xoá; "
        "hồ sơ đã nộp được Trung tâm giữ để xử lý; khi bạn yêu cầu xoá, phần tên, "
        "liên lạc và nội dung bạn viết bị xoá.\n"
        "• Quyền của bạn: đồng ý hay không tuỳ bạn; xem dữ liệu (/dulieu), xoá (/xoadulieu), "
        "rút đồng ý (/rutdongy) bất cứ lúc nào; muốn sửa thì làm lại hồ sơ hoặc "
        "liên hệ Trung tâm.\n"
        "Nếu không đồng ý, mình không lưu thông tin nào ở trên; bạn vẫn hỏi đáp và "
        "nhận nhắc lịch bình thường.\n\n"
        "Bạn có đồng ý không?"
    ),
}

AGREE = "Đồng ý"
DISAGREE = "Không đồng ý"

AGREED = "✅ Cảm ơn bạn. Mình đã ghi nhận bạn đồng ý lúc {when}."
REFUSED = (
    "Mình sẽ không lưu thông tin cá nhân nào của bạn. Bạn vẫn hỏi đáp và nhận nhắc lịch "
    "bình thường. Khi muốn làm hồ sơ, bạn bấm lại «📝 Tạo hồ sơ đề nghị hỗ trợ»."
)

WITHDRAWN = (
    "Đã rút đồng ý lúc {when}. Mình dừng việc làm hồ sơ và không lưu thêm thông tin "
    "của bạn.\nThông tin đã lưu vẫn còn. Bạn có muốn xoá không?"
)
NOTHING_TO_WITHDRAW = "Bạn chưa đồng ý cho mình lưu thông tin nên không có gì để rút."

ERASE_BUTTON = "🗑 Xoá dữ liệu của tôi"
ERASE_CONFIRM_BUTTON = "🗑 Xoá"
KEEP_BUTTON = "Giữ lại"
KEPT = "Mình giữ nguyên dữ liệu của bạn."

ASK_ERASE = "Bạn chắc muốn xoá dữ liệu của mình?\n{what}"
ERASE_WHAT = (
    "Sẽ xoá: tên hiển thị, số điện thoại, hồ sơ chưa nộp, đăng ký nhắc lịch, câu hỏi và "
    "tin nhắn đã gửi, tin nhắn chờ gửi và việc đang làm dở."
)
# What stays of a submitted request, and why (said before and after erasing).
KEPT_OF_SUBMITTED = (
    "Hồ sơ đã nộp {ids} được giữ ở dạng ẩn danh để Trung tâm theo dõi các đề nghị đã "
    "nhận: chỉ còn loại hỗ trợ, xã/tỉnh, ngành nghề, số lao động, kinh phí và trạng thái "
    "xử lý; tên cơ sở, họ tên, số điện thoại, mã số, sản phẩm, kế hoạch đều bị xoá."
)
ERASED = "🗑 Đã xoá dữ liệu của bạn ({what})."
ERASED_NOTHING = "🗑 Đã xoá. Mình không còn lưu thông tin cá nhân nào của bạn."

DATA_TITLE = "📂 Dữ liệu mình đang lưu về bạn:"
NO_DATA = "Mình chưa lưu thông tin nào của bạn."
NONE = "chưa có"

STATUS_LABELS = {
    "in_progress": "đang làm dở",
    "abandoned": "đã bỏ",
    "draft": "đã lưu, chưa nộp",
    "submitted": "đã nộp",
    "under_review": "đang được xem xét",
    "approved": "được duyệt",
    "rejected": "không được duyệt",
    "needs_changes": "cần bổ sung",
}

PRUNE_LABELS = {
    "questions": "câu hỏi chưa trả lời (quá {days} ngày)",
    "outbox": "tin nhắn đã gửi xong (quá {days} ngày)",
    "drafts": "hồ sơ làm dở, bỏ ngang (quá {days} ngày)",
    "conversations": "hội thoại dừng giữa chừng (quá {days} ngày)",
    "updates": "mã tin nhắn đã xử lý (quá {days} ngày)",
    "inbox": "tin nhắn đến đã xử lý (quá {days} ngày)",
    "leads": "cơ sở được giới thiệu chưa làm hồ sơ (quá {days} ngày)",
    "files": "tệp đơn gửi qua liên kết đã hết hạn (quá {days} ngày)",
}

LEADS_KEPT = (
    "{n} cơ sở bạn đã giới thiệu vẫn được Trung tâm giữ (thông tin của cơ sở), "
    "nhưng không còn gắn với bạn."
)
