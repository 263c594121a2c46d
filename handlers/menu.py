"""Start, main menu, help, cancel, contact, small talk and the fallbacks every bot needs."""

from __future__ import annotations

import re
from typing import Any

from bot.types import Reply
from handlers.base import Context, Feature, button
from handlers.forms.words import is_quit
from knowledge.normalize import fold_key

NAME = "menu"

MENU_ITEMS = [
    ("❓ Hỏi đáp khuyến công", "faq"),
    ("📝 Tạo hồ sơ đề nghị hỗ trợ", "intake"),
    ("📅 Nhắc lịch & hội chợ", "reminders"),
    ("☎️ Liên hệ cán bộ", "contact"),
]

WELCOME = (
    "Xin chào{name}! Mình là Trợ lý Khuyến công 🤝\n"
    "Mình giúp bạn tìm hiểu chính sách khuyến công, kiểm tra điều kiện, "
    "làm hồ sơ đề nghị hỗ trợ và nhắc lịch hạn nộp, hội chợ.\n\n"
    "Bạn chọn bên dưới, hoặc gõ câu hỏi (có dấu hay không dấu đều được)."
)

HELP = (
    "Mình có thể:\n"
    "• Trả lời câu hỏi về khuyến công: ai được hỗ trợ, hỗ trợ gì, bao nhiêu, "
    "làm hồ sơ thế nào.\n"
    "• Hướng dẫn tạo hồ sơ đề nghị hỗ trợ và gửi bạn đơn đã điền sẵn.\n"
    "• Nhắc hạn nộp hồ sơ, hội chợ, lớp tập huấn.\n"
    "• Chuyển câu hỏi tới cán bộ Trung tâm.\n\n"
    "Lệnh:\n"
)

COMING_SOON = "Tính năng «{label}» đang được xây dựng, sẽ có trong thời gian tới. 🙏"

STALE_SHORT = "Nút này đã cũ nên mình không dùng được nữa."
STALE = STALE_SHORT + " Bạn chọn lại từ menu nhé."
UNKNOWN_COMMAND = "Mình không có lệnh này. Bạn gõ /menu để xem các việc mình làm được."
NO_TEXT = "Mình chỉ đọc được tin nhắn chữ. Bạn gõ câu hỏi hoặc chọn nút nhé."
BLANK = "Tin nhắn trống. Bạn gõ câu hỏi hoặc chọn nút nhé."
CANCELLED = "Đã dừng việc đang làm."
# What stays after /cancel, per dialogue (said so that nobody fears losing their answers).
CANCEL_NOTES = {
    "intake": "Hồ sơ đang làm dở vẫn được lưu: bấm «📝 Tạo hồ sơ đề nghị hỗ trợ» để làm tiếp.",
    "reminders": "Nhắc lịch của bạn giữ như cũ.",
}
NOTHING_TO_CANCEL = "Hiện không có việc gì đang làm dở."

_GREETING = re.compile(
    r"^(xin chao|chao|hello|hi|alo|a lo|hey|chao ban|chao bot|chao ad|chao anh|chao chi"
    r"|chao em|good morning)\b"
)
_THANKS = re.compile(r"^(cam on|cam ong|thank|thanks|tks|thank you|ok cam on|camon|cmon|thanks)\b")
_BYE = re.compile(r"^(tam biet|bye|bai bai|hen gap lai)\b")


def given_name(full_name: str | None) -> str | None:
    """The name to greet with, or None when it can't be told.

    Vietnamese names put the given name last ("Nguyễn Văn An"), but people fill Telegram's
    first/last name fields in either order, so a two-word name ("An Nguyễn") is ambiguous:
    better no name than the family name.
    """
    words = (full_name or "").split()
    if len(words) == 1 or len(words) >= 3:
        return words[-1]
    return None


def menu_buttons() -> list[list]:
    return [[button(label, NAME, key)] for label, key in MENU_ITEMS]


def main_menu(text: str = "Bạn cần gì? Chọn một mục bên dưới:") -> Reply:
    return Reply(text, buttons=menu_buttons())


STAFF_MENU_TEXT = "🧑‍💼 Menu cán bộ. Bạn cần làm gì?"
OWNER_MENU = "🧑‍🌾 Các mục của chủ cơ sở"


async def role_rows(ctx: Context) -> list[list[Any]] | None:
    """The rows the staff feature adds for this chat's role (None: an owner)."""
    staff: Any = ctx.router.get("staff")
    menu_rows = getattr(staff, "menu_rows", None)
    if menu_rows is None:
        return None
    return await menu_rows(ctx)  # type: ignore[no-any-return]


async def menu_for(ctx: Context, text: str = "Bạn cần gì? Chọn một mục bên dưới:") -> Reply:
    """The menu for the chat's role: staff and admin their own (with the owner's one tap
    away), collaborators the owner's with «➕ Giới thiệu cơ sở»."""
    rows = await role_rows(ctx)
    if rows is None:
        return main_menu(text)
    if any(b.payload.startswith("staff:") for row in rows for b in row):
        return Reply(STAFF_MENU_TEXT, buttons=[*rows, [button(OWNER_MENU, NAME, "owner")]])
    return Reply(text, buttons=[*menu_buttons(), *rows])


class MenuFeature(Feature):
    name = NAME
    commands = {
        "start": "Bắt đầu",
        "menu": "Menu chính",
        "help": "Hướng dẫn sử dụng",
        "cancel": "Dừng việc đang làm",
    }

    async def on_command(self, ctx: Context, command: str, args: str) -> list[Reply]:
        if command == "start":
            ctx.finish()
            staff: Any = ctx.router.get("staff")
            if args and staff is not None:  # a deep link with an invite code
                return await staff.start_code(ctx, args.split()[0])  # type: ignore[no-any-return]
            name = given_name(ctx.incoming.display_name or ctx.user.display_name)
            greeting = f" {name}" if name else ""
            welcome = WELCOME.format(name=greeting)
            rows = await role_rows(ctx)
            if rows is not None:
                return [Reply(welcome), await menu_for(ctx)]
            return [Reply(welcome, buttons=menu_buttons())]
        if command == "menu":
            return [await menu_for(ctx)]
        if command == "help":
            commands = "\n".join(f"/{c} – {d.lower()}" for c, d in ctx.router.command_list)
            return [Reply(HELP + commands, buttons=menu_buttons())]
        if command == "cancel":
            dialogue = ctx.state.dialogue
            ctx.finish()
            if dialogue is None:
                return [main_menu(NOTHING_TO_CANCEL)]
            note = CANCEL_NOTES.get(dialogue)
            return [main_menu(f"{CANCELLED}\n{note}" if note else CANCELLED)]
        return await self.unknown_command(ctx)

    async def on_button(self, ctx: Context, action: str, arg: str) -> list[Reply]:
        if action == "home":
            return [await menu_for(ctx)]
        if action == "owner":
            return [main_menu()]
        if action == "contact":
            return [self.contact(ctx)]
        labels = dict((key, label) for label, key in MENU_ITEMS)
        if action in labels:
            feature = ctx.router.get(action)
            if feature is None:
                label = labels[action].split(" ", 1)[1]
                return [main_menu(COMING_SOON.format(label=label))]
            return await feature.on_button(ctx, "open", "")
        return await self.stale_button(ctx)

    def contact(self, ctx: Context) -> Reply:
        s = ctx.settings
        lines = [f"☎️ {s.centre_name}"]
        if s.centre_phone:
            lines.append(f"Điện thoại: {s.centre_phone}")
        if s.centre_address:
            lines.append(f"Địa chỉ: {s.centre_address}")
        if s.centre_email:
            lines.append(f"Email: {s.centre_email}")
        lines.append(f"Giờ làm việc: {s.centre_hours}")
        if not (s.centre_phone or s.centre_email):
            lines.append("Bạn có thể gửi câu hỏi cho cán bộ ngay tại đây.")
        buttons = [[button("🏠 Menu", NAME, "home")]]
        if ctx.router.get("faq") is not None:
            buttons.insert(0, [button("✍️ Gửi câu hỏi cho cán bộ", "faq", "ask_staff")])
        return Reply("\n".join(lines), buttons=buttons)

    # --- fallbacks used by the router -------------------------------------------------

    async def free_text(self, ctx: Context) -> list[Reply]:
        folded = fold_key(ctx.text)
        if not folded and not ctx.text:
            return [Reply(NO_TEXT, buttons=menu_buttons())]
        short = len(folded.split()) <= 6
        if short and _GREETING.match(folded):
            return [main_menu("Chào bạn! 👋 Mình có thể giúp gì? Chọn bên dưới hoặc gõ câu hỏi.")]
        if short and _THANKS.match(folded):
            return [Reply("Không có gì ạ! Bạn cần gì thêm cứ hỏi mình nhé. 😊")]
        if short and _BYE.match(folded):
            return [Reply("Chào bạn, chúc cơ sở làm ăn thuận lợi! Khi cần cứ nhắn mình.")]
        if folded in {"menu", "bat dau", "start"}:
            return [await menu_for(ctx)]
        staff: Any = ctx.router.get("staff")
        looks_like_code = getattr(staff, "looks_like_code", None)
        if looks_like_code is not None and looks_like_code(ctx.text):
            return await staff.start_code(ctx, ctx.text)  # type: ignore[no-any-return]
        if is_quit(ctx.text):  # «hủy», «thôi» … with no dialogue going on
            return [main_menu(NOTHING_TO_CANCEL)]
        faq = ctx.router.get("faq")
        if faq is not None:
            return await faq.on_text(ctx)
        return [main_menu(COMING_SOON.format(label="Hỏi đáp khuyến công"))]

    async def stale_button(self, ctx: Context) -> list[Reply]:
        if ctx.state.dialogue:
            feature = ctx.router.get(ctx.state.dialogue)
            reprompt = getattr(feature, "reprompt", None)
            if reprompt is not None:
                return [Reply(STALE_SHORT), *await reprompt(ctx)]
        return [main_menu(STALE)]

    async def unknown_command(self, ctx: Context) -> list[Reply]:
        return [Reply(UNKNOWN_COMMAND)]

    async def no_text(self, ctx: Context) -> list[Reply]:
        """A sticker, photo or voice message (no text), or a blank one."""
        message = BLANK if ctx.incoming.text is not None else NO_TEXT
        if ctx.state.dialogue:
            feature = ctx.router.get(ctx.state.dialogue)
            reprompt = getattr(feature, "reprompt", None)
            if reprompt is not None:
                return [Reply(message), *await reprompt(ctx)]
        return [Reply(message, buttons=menu_buttons())]
