"""«Nhắc lịch & hội chợ»: subscribe to reminders in a few taps, see upcoming events, stop.

The subscription is a form (``handlers.forms``): ``kinds`` (toggle buttons, all on by
default, «tất cả» typed picks all) → ``province`` (a button, or the name typed) →
``sectors`` (toggle buttons, none = all) → saved, with a short confirmation.
"""

from __future__ import annotations

from typing import Any

from bot.types import Button, Reply
from db.repos.events import EventRepo, SubscriptionRepo, latest_draft_province
from handlers.base import Context, Feature, Services, button
from handlers.forms import Answers, Choice, Form, FormFeature, Hint, Step
from handlers.reminders.scheduling import (
    EVENT_KINDS,
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
from knowledge.vocabulary import vocabulary

NAME = "reminders"
LIST_LIMIT = 8

INTRO = (
    "📅 Nhắc lịch & hội chợ\n"
    "Mình nhắc bạn hạn nộp hồ sơ, hội chợ, lớp tập huấn… lúc {hour} giờ sáng: {when}."
)
ASK_KINDS = "Bạn muốn được nhắc loại nào? Bấm để bật/tắt, xong bấm «✅ Tiếp»."
ASK_PROVINCE = "Cơ sở của bạn ở tỉnh/thành nào? Chọn bên dưới hoặc gõ tên tỉnh (vd: Quảng Ngãi)."
ASK_SECTORS = "Ngành nghề của bạn? Bấm để chọn (không chọn = mọi ngành), xong bấm «✅ Lưu»."
UNKNOWN_PROVINCE = (
    "Mình chưa nhận ra tỉnh «{text}». Bạn gõ lại tên tỉnh/thành (vd: Đắk Lắk, Cần Thơ) "
    "hoặc chọn «Cả nước»."
)
STOPPED = "🔕 Đã tắt nhắc lịch. Bạn bật lại bất cứ lúc nào ở menu «📅 Nhắc lịch & hội chợ»."
NOT_SUBSCRIBED = "Bạn chưa bật nhắc lịch nên không có gì để tắt."
NO_EVENTS = "Hiện chưa có sự kiện nào sắp tới phù hợp với bạn."
NEED_ONE_KIND = "Bạn cần chọn ít nhất một loại sự kiện."
QUIT = "Đã dừng. Nhắc lịch của bạn giữ như cũ."
ALL_PROVINCES = "🇻🇳 Cả nước (mọi tỉnh)"


def _home() -> Button:
    return button("🏠 Menu", "menu", "home")


def _when_text(cfg: ReminderConfig) -> str:
    """E.g. "trước 7 ngày và 1 ngày; và sáng ngày khai mạc hội chợ"."""
    days = [f"{d} ngày" for d in cfg.offsets_days]
    text = "trước " + " và ".join(days) if days else ""
    if cfg.opening_day_kinds:
        text += ("; và " if text else "") + "sáng ngày khai mạc hội chợ"
    return text


def _kind_choices(ctx: Context, a: Answers) -> list[Choice]:
    return [Choice(t.key, f"{t.icon} {t.label}", words=t.words) for t in vocabulary().event_kinds]


def _province_choices(ctx: Context, a: Answers) -> list[Choice]:
    """The current province and the one of the user's draft, then the whole country."""
    rows: list[Choice] = []
    for name in (a.get("province"), ctx.state.data.get("suggest")):
        if name and name in PROVINCES and all(c.value != name for c in rows):
            rows.append(Choice(str(PROVINCES.index(name)), f"📍 {name}", name))
    # "" (not None) is stored for the whole country: None would mean "the id".
    words = ("ca nuoc", "toan quoc", "tat ca", "moi tinh", "ca nuoc moi tinh", "all")
    rows.append(Choice("all", ALL_PROVINCES, "", words))
    return rows


def _read_province(text: str, a: Answers) -> str:
    province = find_province(text)
    if province is None:
        raise Hint(UNKNOWN_PROVINCE.format(text=text[:40]))
    return province


def _sector_choices(ctx: Context, a: Answers) -> list[Choice]:
    return [Choice(t.key, t.label, words=t.words) for t in vocabulary().sectors]


def _at_least_one_kind(a: Answers) -> str | None:
    return None if a.get("kinds") else NEED_ONE_KIND


FORM = Form(
    name=NAME,
    numbering="{n}/{total}. ",
    quit_text=QUIT,
    steps=(
        Step(
            "kinds",
            ASK_KINDS,
            label="Loại",
            choices=_kind_choices,
            multi=True,
            all_choice=True,
            check=_at_least_one_kind,
            hint="Bạn bấm để bật/tắt từng loại, hoặc gõ «tất cả», rồi bấm «✅ Tiếp» nhé.",
        ),
        Step(
            "province",
            ASK_PROVINCE,
            label="Tỉnh",
            choices=_province_choices,
            parse=_read_province,
            hint="Bạn gõ tên tỉnh/thành (vd: Quảng Ngãi) hoặc chọn «Cả nước» nhé.",
        ),
        Step(
            "sectors",
            ASK_SECTORS,
            label="Ngành",
            choices=_sector_choices,
            multi=True,
            all_choice=True,
            done_label=lambda ctx, a: "✅ Lưu" + ("" if a.get("sectors") else " (mọi ngành)"),
            hint="Bạn bấm để chọn ngành (không chọn = mọi ngành), xong bấm «✅ Lưu» nhé.",
        ),
    ),
)


class RemindersFeature(FormFeature):
    form = FORM
    name = NAME
    commands = {"sukien": "Sự kiện sắp tới", "stop_reminders": "Tắt nhắc lịch"}

    def __init__(self, services: Services) -> None:
        super().__init__()
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
        return await self.form_button(ctx, action, arg)

    # -- the form's hooks -------------------------------------------------------------

    def is_answered(self, answers: Answers, step: Step) -> bool:
        return step.id in answers

    async def finished(self, ctx: Context) -> list[Reply]:
        return await self._save(ctx)

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
            else ", ".join(label for s, label in SECTORS.items() if t_in(s, sub.sectors))
        )
        return f"• Loại: {kinds}\n• Tỉnh: {sub.province or 'cả nước'}\n• Ngành: {sectors}"

    async def _begin(self, ctx: Context) -> list[Reply]:
        sub = await SubscriptionRepo(ctx.session).get(ctx.user.id)
        suggest = None
        if sub is not None and sub.active:
            answers: Answers = {
                "kinds": [k for k in EVENT_KINDS if not sub.kinds or k in sub.kinds],
                "province": sub.province or "",
                "sectors": [k for k in SECTORS if t_in(k, sub.sectors or [])],
            }
        else:
            answers = {"kinds": list(EVENT_KINDS), "province": "", "sectors": []}
            # The intake stores the official name ("Thành phố Đà Nẵng"): map it to ours.
            drafted = await latest_draft_province(ctx.session, ctx.user)
            suggest = find_province(drafted) if drafted else None
        return self.begin(ctx, answers, suggest=suggest)

    async def _save(self, ctx: Context) -> list[Reply]:
        a = self.answers(ctx)
        kinds = [k for k in EVENT_KINDS if k in a.get("kinds", [])]
        if set(kinds) == set(EVENT_KINDS):
            kinds = []  # all, including kinds added later
        sectors = [s for s in SECTORS if s in a.get("sectors", [])]
        if set(sectors) == set(SECTORS):
            sectors = []  # every sector: "mọi ngành"
        sub = await SubscriptionRepo(ctx.session).save(
            ctx.user.id,
            kinds=kinds,
            province=a.get("province") or None,
            sectors=sectors,
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


def t_in(key: str, stored: list[str]) -> bool:
    """Is the sector ``key`` among the stored keys (old keys included)?"""
    term = vocabulary().sector(key)
    return term is not None and any(s == term.key or s in term.aliases for s in stored)
