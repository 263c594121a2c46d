"""Staff on Telegram (python-telegram-bot against the fake Bot API): an invite link makes a
staff member, whose announcement to one province reaches exactly the users there."""

from __future__ import annotations

from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.staff import owner_in
from tests.auxil.telegram import start_bot, telegram_settings_for

STAFF, OTHER = 7001, 7002


def texts(fake: FakeTelegram, chat: int) -> str:
    return "\n".join(m.get("text") or "" for m in fake.sent_to(chat))


async def test_invite_link_then_announcement_on_telegram(db_url, fake_telegram, capsys):
    from bot.cli import build_parser

    settings = telegram_settings_for(
        db_url, fake_telegram, send_window="00:00-23:59", reminder_check_seconds=0.2
    )
    app, transport, workers = await start_bot(settings)
    try:
        await owner_in(app, "8001", province="Quảng Ngãi")
        await owner_in(app, "8002", province="Kon Tum")
        await owner_in(app, "8101", province="Hà Nội")
        args = build_parser().parse_args(["users", "invite", "staff"])
        capsys.readouterr()
        assert await args.func(args, settings) == 0
        out = capsys.readouterr().out
        assert "https://t.me/kc_test_bot?start=" in out  # the bot's name from getMe
        code = out.split("?start=")[1].split()[0]

        fake_telegram.push_message(STAFF, f"/start {code}")
        await fake_telegram.wait_for(lambda f: "cán bộ Trung tâm" in texts(f, STAFF), timeout=10)
        assert "📣 Gửi thông báo" in str(fake_telegram.sent_to(STAFF)[-1]["reply_markup"])
        fake_telegram.push_message(OTHER, f"/start {code}")
        await fake_telegram.wait_for(lambda f: "đã được dùng" in texts(f, OTHER), timeout=10)

        steps = [
            ("text", "/thongbao", "nội dung thông báo"),
            ("text", "Mời đăng ký hội chợ CNNT tiêu biểu năm 2027.", "Thêm một nút"),
            ("tap", "staff:pick:button:none", "tỉnh/thành nào"),
            ("text", "Quảng Ngãi", "2 người nhận"),
            ("tap", "staff:done:sectors", "Loại hình"),
            ("tap", "staff:done:kinds", "Nhóm người nhận"),
            ("tap", "staff:pick:group:all", "Gửi khi nào"),
            ("tap", "staff:pick:when:now", "Người nhận sẽ thấy"),
            ("tap", "staff:confirm", "Đã xếp hàng thông báo"),
        ]
        for kind, value, expect in steps:
            before = len(fake_telegram.sent_to(STAFF))
            if kind == "text":
                fake_telegram.push_message(STAFF, value)
            else:
                fake_telegram.push_callback(STAFF, value)

            def arrived(f: FakeTelegram, before: int = before, expect: str = expect) -> bool:
                return expect in "\n".join(m.get("text") or "" for m in f.sent_to(STAFF)[before:])

            await fake_telegram.wait_for(arrived, timeout=10)
        announcement = "Mời đăng ký hội chợ CNNT tiêu biểu năm 2027."
        await fake_telegram.wait_for(
            lambda f: announcement in texts(f, 8001) and announcement in texts(f, 8002),
            timeout=10,
        )
        # the report reaches the staff chat (the scheduler's pass)
        await fake_telegram.wait_for(lambda f: "Đã gửi: 2" in texts(f, STAFF), timeout=10)
        assert announcement not in texts(fake_telegram, 8101)
        assert texts(fake_telegram, 8001).count(announcement) == 1
    finally:
        await transport.stop()
        await workers.stop()
        await app.close()
