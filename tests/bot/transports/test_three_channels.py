"""One engine, three channels: the same dialogue, state kept per channel and chat."""

from __future__ import annotations

from bot.app import App
from bot.render import render
from bot.transports import zalo_bot, zalo_oa
from db.models.core import Conversation
from tests.auxil.app import ChatUser


async def choose(user: ChatUser, label_part: str) -> None:
    """Tap where there are buttons; on the Zalo Bot, type the number shown."""
    if user.channel != zalo_bot.CHANNEL:
        await user.tap(label_part)
        return
    shown = "\n".join(r.text for r in render(user.last, zalo_bot.CAPABILITIES))
    [line] = [ln for ln in shown.splitlines() if label_part in ln and ". " in ln]
    await user.send(line.split(".")[0])


async def test_the_same_dialogue_on_telegram_zalo_oa_and_zalo_bot(app: App):
    app.engine.capabilities[zalo_oa.CHANNEL] = zalo_oa.CAPABILITIES
    app.engine.capabilities[zalo_bot.CHANNEL] = zalo_bot.CAPABILITIES
    # The same chat id on three channels is three users.
    users = {ch: ChatUser(app, "5005", ch) for ch in ("telegram", "zalo_oa", "zalo_bot")}
    for channel, user in users.items():
        await user.send("/start")
        await choose(user, "Tạo hồ sơ")
        if any("Đồng ý" in label for label in user.labels):
            await choose(user, "Đồng ý")
        assert "Bước 1/15" in user.text, (channel, user.text)
    # Telegram's user goes on; the others stay where they were.
    await choose(users["telegram"], "Máy móc")
    assert "Bước 2/15" in users["telegram"].text
    await choose(users["zalo_bot"], "Máy móc")
    assert "Bước 2/15" in users["zalo_bot"].text
    async with app.sessions() as session:
        steps = {ch: (await session.get(Conversation, (ch, "5005"))) for ch in users}
    assert all(conv is not None and conv.dialogue for conv in steps.values())
    assert steps["telegram"].step == steps["zalo_bot"].step != steps["zalo_oa"].step  # type: ignore[union-attr]
