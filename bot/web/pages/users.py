"""«Người dùng & vai trò» (admin): the chats the bot knows, 50 a page by keyset (as fast on
the last of 50,000 as on the first), with role and channel filters; a role granted or taken
back (the person is told in their chat); one-time invite codes (shown once); and the staff
pages' logins (list, add, new password, remove, link to a chat account).

Rules live in handlers.staff.roles and bot.web.logins (``kcbot users`` / ``kcbot staff``
call the same functions); this module reads forms and renders.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.web.core import db, now, redirect_with_flash, render, user_of
from bot.web.logins import (
    MIN_PASSWORD,
    WEB_ROLES,
    LoginError,
    add_login,
    link_login,
    remove_login,
    role_of,
    set_password,
)
from bot.web.pages import Page, PageRouter
from db.models.core import User
from db.models.web import WebLogin
from db.repos.staff import ROLES
from db.repos.web import LoginRepo
from handlers.staff import roles

PAGE = Page(title="Người dùng & vai trò", path="users", min_role="admin", order=80)
TABS = (("", "Người dùng"), ("/invites", "Mã mời"), ("/logins", "Tài khoản đăng nhập"))
ROLE_CHOICES = [(r, roles.ROLE_SHORT[r]) for r in ROLES]
INVITE_HOURS = ((24, "1 ngày"), (72, "3 ngày"), (168, "7 ngày"), (720, "30 ngày"))


def _cursor(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 12 else None


async def _page(request: web.Request, template: str, tab: str, **context: Any) -> web.Response:
    return await render(
        request,
        template,
        title=PAGE.title,
        tabs=[(f"{PAGE.url}{suffix}", label, suffix == tab) for suffix, label in TABS],
        role_choices=ROLE_CHOICES,
        role_names=roles.ROLE_SHORT,
        **context,
    )


# --- users --------------------------------------------------------------------------------


async def _users(
    request: web.Request,
    *,
    found: Any = None,
    q: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    query = request.query
    async with db(request) as session:
        channels = await roles.channels(session)
        flt, filter_errors = roles.parse_user_filter(
            query.get("role", "")[:20], query.get("channel", "")[:20], channels
        )
        listing = None
        if found is None:
            listing = await roles.users_page(
                session,
                flt,
                below=_cursor(query.get("below", "")),
                above=_cursor(query.get("above", "")),
            )

    def link(**cursor: int) -> str:
        return f"{PAGE.url}?{urlencode({**flt.query(), **cursor})}"

    return await _page(
        request,
        "users/list.html",
        "",
        status=status,
        flt=flt,
        channels=channels,
        listing=listing,
        found=found,
        q=q,
        errors={**filter_errors, **(errors or {})},
        older_url=link(below=listing.older) if listing and listing.older else None,
        newer_url=link(above=listing.newer) if listing and listing.newer else None,
        back_to=request.path_qs,
    )


async def list_users(request: web.Request) -> web.StreamResponse:
    return await _users(request)


async def search(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    q = str(form.get("q", ""))[:200]
    try:
        async with db(request) as session:
            found = list(await roles.find_users(session, q))
    except roles.RoleError as exc:
        return await _users(request, q=q, errors={exc.field: str(exc)}, status=400)
    return await _users(request, found=found, q=q)


def _back(form: Any) -> str:
    """Where to go after a change: the users list the form was on (only that page)."""
    back = str(form.get("back", ""))
    return back if back.startswith(f"{PAGE.url}?") or back == PAGE.url else PAGE.url


async def _my_chat(request: web.Request, session: Any) -> tuple[str | None, str | None]:
    login = await session.get(WebLogin, user_of(request).login_id)
    return (login.channel, login.chat_id) if login else (None, None)


async def set_role(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    user_id = int(request.match_info["id"])
    role = str(form.get("role", ""))[:20]
    back = _back(form)
    try:
        async with db(request) as session:
            target = await session.get(User, user_id)
            if target is not None and (target.channel, target.chat_id) == await _my_chat(
                request, session
            ):
                raise roles.RoleError("Bạn không thể tự đổi vai trò của chính mình.", "role")
            user, changed = await roles.set_user_role(
                session, user_id, role, actor=user_of(request).actor, now=now(request)
            )
            name = user.display_name or f"{user.channel}:{user.chat_id}"
    except roles.RoleError as exc:
        return await redirect_with_flash(request, back, str(exc))
    label = roles.ROLE_SHORT[role]
    message = (
        f"Đã đổi vai trò của {name} thành {label}; người đó được báo trong chat."
        if changed
        else f"{name} đã là {label}."
    )
    return await redirect_with_flash(request, back, message)


# --- invites ------------------------------------------------------------------------------


async def _invites(
    request: web.Request,
    *,
    created: Any = None,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    async with db(request) as session:
        recent = list(await roles.recent_invites(session))
    moment = now(request)
    return await _page(
        request,
        "users/invites.html",
        "/invites",
        status=status,
        created=created,
        recent=[(invite, roles.invite_state(invite, moment)) for invite in recent],
        errors=errors or {},
        form=form or {"role": "collaborator", "hours": "72"},
        invite_roles=ROLE_CHOICES[1:],
        hours_choices=INVITE_HOURS,
    )


async def list_invites(request: web.Request) -> web.StreamResponse:
    return await _invites(request)


async def create_invite(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    role = str(form.get("role", ""))[:20]
    hours_text = str(form.get("hours", ""))[:6]
    values = {"role": role, "hours": hours_text}
    if not hours_text.isdigit():
        return await _invites(
            request, errors={"hours": "Chọn thời hạn của mã."}, form=values, status=400
        )
    try:
        async with db(request) as session:
            invite = await roles.create_invite(
                session, role, int(hours_text), actor=user_of(request).actor, now=now(request)
            )
    except roles.RoleError as exc:
        return await _invites(request, errors={exc.field: str(exc)}, form=values, status=400)
    # The code is in this answer only: not in a flash (kept in the session) nor in a URL.
    return await _invites(request, created=invite, status=201)


# --- staff logins (bot.web.logins) --------------------------------------------------------


async def _logins(
    request: web.Request,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    async with db(request) as session:
        rows = [(login, await role_of(session, login)) for login in await LoginRepo(session).all()]
    return await _page(
        request,
        "users/logins.html",
        "/logins",
        status=status,
        rows=rows,
        errors=errors or {},
        form=form or {},
        web_roles=[(r, roles.ROLE_SHORT[r]) for r in WEB_ROLES],
        min_password=MIN_PASSWORD,
    )


async def list_logins(request: web.Request) -> web.StreamResponse:
    return await _logins(request)


def _text(form: Any, name: str, limit: int = 100) -> str:
    return str(form.get(name, ""))[:limit]


async def _login_action(
    request: web.Request, form_name: str, values: dict[str, str], work: Any, done: str
) -> web.StreamResponse:
    """Run ``work(session)`` (a bot.web.logins call); errors go next to the form's field."""
    try:
        async with db(request) as session:
            await work(session)
    except LoginError as exc:
        return await _logins(request, errors={form_name: str(exc)}, form=values, status=400)
    return await redirect_with_flash(request, f"{PAGE.url}/logins", done)


async def add(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username, role, chat = _text(form, "username", 64), _text(form, "role", 16), _text(form, "chat")
    password, again = _text(form, "password", 200), _text(form, "password2", 200)
    values = {"username": username, "role": role, "chat": chat}
    if password != again:
        errors = {"add": "Hai lần nhập mật khẩu không khớp."}
        return await _logins(request, errors=errors, form=values, status=400)

    async def work(session: Any) -> None:
        await add_login(
            session,
            username,
            password,
            role,
            now(request),
            user_of(request).actor,
            chat.strip() or None,
        )

    done = f"Đã tạo tài khoản {username.strip().lower()}."
    return await _login_action(request, "add", values, work, done)


async def password(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username = _text(form, "username", 64)
    new, again = _text(form, "password", 200), _text(form, "password2", 200)
    if new != again:
        errors = {"password": "Hai lần nhập mật khẩu không khớp."}
        return await _logins(request, errors=errors, form={"who": username}, status=400)

    async def work(session: Any) -> None:
        await set_password(session, username, new, now(request), user_of(request).actor)

    done = (
        f"Đã đặt mật khẩu mới cho {username}; các phiên đăng nhập cũ của tài khoản này đã kết thúc."
    )
    return await _login_action(request, "password", {"who": username}, work, done)


async def remove(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username = _text(form, "username", 64).strip().lower()
    if username == user_of(request).username:
        errors = {"remove": "Bạn không thể tự xoá tài khoản đang dùng."}
        return await _logins(request, errors=errors, status=400)

    async def work(session: Any) -> None:
        await remove_login(session, username, now(request), user_of(request).actor)

    return await _login_action(request, "remove", {}, work, f"Đã xoá tài khoản {username}.")


async def link(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username, chat = _text(form, "username", 64), _text(form, "chat").strip()
    values = {"who": username, "chat": chat}

    async def work(session: Any) -> None:
        await link_login(session, username, chat, now(request), user_of(request).actor)

    done = f"Đã liên kết {username} với {chat}."
    return await _login_action(request, "link", values, work, done)


def routes(router: PageRouter) -> None:
    router.get("", list_users)
    router.post("/search", search)
    router.post(r"/{id:\d{1,12}}/role", set_role)
    router.get("/invites", list_invites)
    router.post("/invites", create_invite)
    router.get("/logins", list_logins)
    router.post("/logins/add", add)
    router.post("/logins/password", password)
    router.post("/logins/remove", remove)
    router.post("/logins/link", link)
