"""«Nhắc lịch & hội chợ»: subscribe to reminders in a few taps, see upcoming events, stop.

Steps of the subscription dialogue: ``kinds`` (toggle buttons, all on by default) →
``province`` (a button, or the name typed) → ``sectors`` (toggle buttons, none = all) →
saved, with a short confirmation.
"""

from __future__ import annotations

from typing import Any

from bot.reminders import (
    KIND_ICONS,
    KIND_LABELS,
    PROVINCES,
    SECTORS,
    ReminderConfig,
    find_province,
    format_when,
    matches,
    stop_for_chat,
)
from bot.types import Button, Reply
from db.models.events import EVENT_KINDS
from db.repos.events import EventRepo, SubscriptionRepo, latest_draft_province
from handlers.base import Context, Feature, Services, button

NAME = "reminders"
LIST_LIMIT = 8

INTRO = (
    "📅 Nhắc lịch & hội chợ\n"
    "Mình nhắc bạn hạn nộp hồ sơ, hội chợ, lớp tập huấn… lúc {hour} giờ sáng: {when}."
)
ASK_KINDS = "1/3. Bạn muốn được nhắc loại nào? Bấm để bật/tắt, xong bấm «✅ Tiếp»."
ASK_PROVINCE = (
    "2/3. Cơ sở của bạn ở tỉnh/thành nào? Chọn bên dưới hoặc gõ tên tỉnh (vd: Quảng Ngãi)."
)
ASK_SECTORS = "3/3. Ngành nghề của bạn? Bấm để chọn (không chọn = mọi ngành), xong bấm «✅ Lưu»."
UNKNOWN_PROVINCE = (
    "Mình chưa nhận ra tỉnh «{text}». Bạn gõ lại tên tỉnh/thành (vd: Đắk Lắk, Cần Thơ) "
    "hoặc chọn «Cả nước»."
)
STOPPED = "🔕 Đã tắt nhắc lịch. Bạn bật lại bất cứ lúc nào ở menu «📅 Nhắc lịch & hội chợ»."
NOT_SUBSCRIBED = "Bạn chưa bật nhắc lịch nên không có gì để tắt."
NO_EVENTS = "Hiện chưa có sự kiện nào sắp tới phù hợp với bạn."
NEED_ONE_KIND = "Bạn cần chọn ít nhất một loại sự kiện."


def _home() -> Button:
    return button("🏠 Menu", "menu", "home")


def _when_text(cfg: ReminderConfig) -> str:
    """E.g. "trước 7 ngày và 1 ngày; và sáng ngày khai mạc hội chợ"."""
    days = [f"{d} ngày" for d in cfg.offsets_days]
    text = "trước " + " và ".join(days) if days else ""
    if cfg.opening_day_kinds:
        text += ("; và " if text else "") + "sáng ngày khai mạc hội chợ"
    return text


class RemindersFeature(Feature):
    name = NAME
    commands = {"sukien": "Sự kiện sắp tới", "stop_reminders": "Tắt nhắc lịch"}

    def __init__(self, services: Services) -> None:
        self.services = services

    def config(self, ctx: Context) -> ReminderConfig:
        try:
            return ReminderConfig.from_settings(ctx.settings)
        except ValueError:
            return ReminderConfig()

    # -- entry points -----------------------------------------------------------------

    async def on_command(self, ctx: Context, command: str, args: str) -> list[Reply]:
        if command == "stop_reminders":
            return await self._stop(ctx)
        if command == "sukien":
            return await self._list(ctx)
        return await ctx.router.unknown_command(ctx)

    async def on_button(self, ctx: Context, action: str, arg: str) -> list[Reply]:
        if action == "open":
            ctx.finish()
            return [await self._overview(ctx)]
        if action == "sub":
            return await self._begin(ctx)
        if action == "list":
            return await self._list(ctx)
        if action == "stop":
            return await self._stop(ctx)
        in_flow = ctx.state.dialogue == NAME
        if action == "kind" and in_flow and ctx.state.step == "kinds":
            kinds = list(ctx.state.data.get("kinds", []))
            if arg in EVENT_KINDS:
                kinds = [k for k in kinds if k != arg] if arg in kinds else [*kinds, arg]
            ctx.state.data["kinds"] = kinds
            return [self._kinds_prompt(ctx)]
        if action == "kinds_ok" and in_flow and ctx.state.step == "kinds":
            if not ctx.state.data.get("kinds"):
                return [Reply(NEED_ONE_KIND), self._kinds_prompt(ctx)]
            ctx.state.step = "province"
            return [await self._province_prompt(ctx)]
        if action == "prov" and in_flow and ctx.state.step == "province":
            if arg == "all":
                ctx.state.data["province"] = None
            elif arg.isdigit() and int(arg) < len(PROVINCES):
                ctx.state.data["province"] = PROVINCES[int(arg)]
            else:
                return [await self._province_prompt(ctx)]
            ctx.state.step = "sectors"
            return [self._sectors_prompt(ctx)]
        if action == "sec" and in_flow and ctx.state.step == "sectors":
            sectors = list(ctx.state.data.get("sectors", []))
            if arg in SECTORS:
                sectors = [s for s in sectors if s != arg] if arg in sectors else [*sectors, arg]
            ctx.state.data["sectors"] = sectors
            return [self._sectors_prompt(ctx)]
        if action == "save" and in_flow and ctx.state.step == "sectors":
            return await self._save(ctx)
        return await ctx.router.stale_button(ctx)

    async def on_text(self, ctx: Context) -> list[Reply]:
        if ctx.state.step == "province":
            province = find_province(ctx.text)
            if province is None:
                return [
                    Reply(UNKNOWN_PROVINCE.format(text=ctx.text[:40])),
                    await self._province_prompt(ctx),
                ]
            ctx.state.data["province"] = province
            ctx.state.step = "sectors"
            return [self._sectors_prompt(ctx)]
        # text in a button step: probably a question; leave the dialogue and answer it
        ctx.finish()
        return await ctx.router.free_text(ctx)

    async def reprompt(self, ctx: Context) -> list[Reply]:
        if ctx.state.step == "kinds":
            return [self._kinds_prompt(ctx)]
        if ctx.state.step == "province":
            return [await self._province_prompt(ctx)]
        if ctx.state.step == "sectors":
            return [self._sectors_prompt(ctx)]
        return [await self._overview(ctx)]

    # -- screens ----------------------------------------------------------------------

    async def _overview(self, ctx: Context) -> Reply:
        sub = await SubscriptionRepo(ctx.session).get(ctx.user.id)
        cfg = self.config(ctx)
        intro = INTRO.format(hour=cfg.send_hour, when=_when_text(cfg))
        if sub is not None and sub.active:
            text = f"{intro}\n\n🔔 Bạn đang bật nhắc lịch:\n{self._summary(sub)}"
            rows = [
                [button("📋 Sự kiện sắp tới", NAME, "list")],
                [button("✏️ Thay đổi", NAME, "sub")],
                [button("🔕 Tắt nhắc lịch", NAME, "stop")],
                [_home()],
            ]
        else:
            text = f"{intro}\n\nBạn chưa bật nhắc lịch."
            rows = [
                [button("🔔 Bật nhắc lịch", NAME, "sub")],
                [button("📋 Sự kiện sắp tới", NAME, "list")],
                [_home()],
            ]
        return Reply(text, buttons=rows)

    def _summary(self, sub: Any) -> str:
        kinds = (
            "tất cả"
            if not sub.kinds or set(sub.kinds) >= set(EVENT_KINDS)
            else ", ".join(KIND_LABELS[k].lower() for k in EVENT_KINDS if k in sub.kinds)
        )
        sectors = (
            "mọi ngành"
            if not sub.sectors
            else ", ".join(SECTORS[s][0] for s in SECTORS if s in sub.sectors)
        )
        return f"• Loại: {kinds}\n• Tỉnh: {sub.province or 'cả nước'}\n• Ngành: {sectors}"

    async def _begin(self, ctx: Context) -> list[Reply]:
        sub = await SubscriptionRepo(ctx.session).get(ctx.user.id)
        if sub is not None and sub.active:
            data = {
                "kinds": list(sub.kinds or EVENT_KINDS),
                "province": sub.province,
                "sectors": list(sub.sectors or []),
            }
        else:
            data = {"kinds": list(EVENT_KINDS), "province": None, "sectors": []}
            # The intake stores the official name ("Thành phố Đà Nẵng"): map it to ours.
            drafted = await latest_draft_province(ctx.session, ctx.user)
            data["suggest"] = find_province(drafted) if drafted else None
        ctx.start(NAME, "kinds", data)
        return [self._kinds_prompt(ctx)]

    def _kinds_prompt(self, ctx: Context) -> Reply:
        chosen = set(ctx.state.data.get("kinds", []))
        rows = [
            [
                button(
                    f"{'☑️' if k in chosen else '⬜'} {KIND_ICONS[k]} {KIND_LABELS[k]}",
                    NAME,
                    "kind",
                    k,
                )
            ]
            for k in EVENT_KINDS
        ]
        rows.append([button("✅ Tiếp", NAME, "kinds_ok")])
        return Reply(ASK_KINDS, buttons=rows)

    async def _province_prompt(self, ctx: Context) -> Reply:
        rows: list[list[Button]] = []
        seen: set[str] = set()
        for name in (ctx.state.data.get("province"), ctx.state.data.get("suggest")):
            if name and name in PROVINCES and name not in seen:
                seen.add(name)
                rows.append([button(f"📍 {name}", NAME, "prov", str(PROVINCES.index(name)))])
        rows.append([button("🇻🇳 Cả nước (mọi tỉnh)", NAME, "prov", "all")])
        return Reply(ASK_PROVINCE, buttons=rows)

    def _sectors_prompt(self, ctx: Context) -> Reply:
        chosen = set(ctx.state.data.get("sectors", []))
        rows = [
            [button(f"{'☑️' if k in chosen else '⬜'} {label}", NAME, "sec", k)]
            for k, (label, _words) in SECTORS.items()
        ]
        rows.append([button("✅ Lưu" + ("" if chosen else " (mọi ngành)"), NAME, "save")])
        return Reply(ASK_SECTORS, buttons=rows)

    async def _save(self, ctx: Context) -> list[Reply]:
        data = ctx.state.data
        kinds = [k for k in EVENT_KINDS if k in data.get("kinds", [])]
        if set(kinds) == set(EVENT_KINDS):
            kinds = []  # all, including kinds added later
        sub = await SubscriptionRepo(ctx.session).save(
            ctx.user.id,
            kinds=kinds,
            province=data.get("province"),
            sectors=[s for s in SECTORS if s in data.get("sectors", [])],
            now=self.services.now(),
        )
        ctx.finish()
        text = (
            f"✅ Đã bật nhắc lịch.\n{self._summary(sub)}\n"
            f"Mình sẽ nhắn lúc {self.config(ctx).send_hour} giờ sáng: "
            f"{_when_text(self.config(ctx))}. "
            "Tắt bất cứ lúc nào: /stop_reminders."
        )
        return [Reply(text, buttons=[[button("📋 Sự kiện sắp tới", NAME, "list")], [_home()]])]

    async def _stop(self, ctx: Context) -> list[Reply]:
        if ctx.state.dialogue == NAME:
            ctx.finish()
        stopped = await SubscriptionRepo(ctx.session).deactivate(ctx.user.id, self.services.now())
        if not stopped:
            return [
                Reply(
                    NOT_SUBSCRIBED, buttons=[[button("🔔 Bật nhắc lịch", NAME, "sub")], [_home()]]
                )
            ]
        await stop_for_chat(ctx.session, ctx.user.channel, ctx.user.chat_id, self.services.now())
        return [Reply(STOPPED, buttons=[[_home()]])]

    async def _list(self, ctx: Context) -> list[Reply]:
        now = self.services.now()
        sub = await SubscriptionRepo(ctx.session).get(ctx.user.id)
        events = await EventRepo(ctx.session).upcoming(now, limit=200)
        if sub is not None and sub.active:
            events = [e for e in events if matches(e, sub)]
        rows = [[_home()]]
        if sub is None or not sub.active:
            rows.insert(0, [button("🔔 Bật nhắc lịch", NAME, "sub")])
        if not events:
            return [Reply(NO_EVENTS, buttons=rows)]
        lines = ["📅 Sự kiện sắp tới (gần nhất trước):"]
        for n, event in enumerate(events[:LIST_LIMIT], 1):
            lines.append("")
            lines.append(f"{n}. {KIND_ICONS.get(event.kind, '📌')} {event.title}")
            lines.append(f"🗓️ {format_when(event)}")
            if event.place:
                lines.append(f"📍 {event.place}")
            if event.contact:
                lines.append(f"☎️ {event.contact}")
        if len(events) > LIST_LIMIT:
            lines.append(f"\n… và {len(events) - LIST_LIMIT} sự kiện khác sau đó.")
        text = "\n".join(lines)
        if len(text) > 4000:
            text = text[:3990].rsplit("\n", 1)[0] + "\n…"
        return [Reply(text, buttons=rows)]


def feature(services: Services) -> Feature:
    return RemindersFeature(services)
