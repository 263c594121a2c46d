"""Login, logout and the guard every /admin request passes through.

The guard reads the session cookie (the token's hash is looked up in the database), sends
anyone not logged in to the login page with a local ``next``, refuses a POST whose CSRF
token is missing or wrong (403), and adds headers that keep pages out of caches and frames.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from bot.web import logins
from bot.web.core import (
    PREFIX,
    Handler,
    WebUser,
    app_of,
    current_user,
    db,
    error_page,
    now,
    redirect,
    render,
    visit,
)
from db.repos.web import FailureRepo, SessionRepo

log = logging.getLogger(__name__)

COOKIE = "kcbot_admin"
LOGIN_COOKIE = "kcbot_login"  # CSRF token of the login form (there is no session yet)
LOGIN_PATH = f"{PREFIX}/login"
LOGOUT_PATH = f"{PREFIX}/logout"
STATIC_PATH = f"{PREFIX}/static/"
TOUCH_EVERY_SECONDS = 60

WRONG = "Tên đăng nhập hoặc mật khẩu không đúng."
LOCKED = "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 15 phút."
NO_ROLE = "Tài khoản này không còn quyền cán bộ. Vui lòng liên hệ quản trị."
BAD_CSRF = "Biểu mẫu đã hết hạn hoặc không hợp lệ. Vui lòng tải lại trang rồi gửi lại."
LOGGED_OUT = "Bạn đã đăng xuất."
NOT_FOUND = "Không tìm thấy trang này."
BROKEN = "Đã có lỗi khi mở trang này. Vui lòng thử lại sau ít phút."

HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
}


def is_https(request: web.Request) -> bool:
    if request.secure:
        return True
    if app_of(request).settings.web_trust_proxy:
        proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
        return proto == "https"
    return False


def safe_next(target: str | None) -> str:
    """A local /admin path to go to after login; anything else goes to the landing page."""
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return f"{PREFIX}/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith(PREFIX) or target.startswith("//"):
        return f"{PREFIX}/"
    if parts.path in (LOGIN_PATH, LOGOUT_PATH) or ".." in parts.path.split("/"):
        return f"{PREFIX}/"
    return target


def _set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str) -> None:
    response.set_cookie(
        name, value, path=PREFIX, httponly=True, samesite="Strict", secure=is_https(request)
    )


async def _load_user(request: web.Request) -> None:
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 200:
        return
    moment = now(request)
    async with db(request) as session:
        found = await SessionRepo(session).valid(token, moment)
        if found is None:
            return
        row, login = found
        role = await logins.role_of(session, login)
        if role not in logins.WEB_ROLES:
            return
        if (moment - row.last_seen).total_seconds() >= TOUCH_EVERY_SECONDS:
            row.last_seen = moment
        found_visit = visit(request)
        found_visit.user = WebUser(login.id, login.username, role, logins.actor_of(login, role))
        found_visit.session_id = row.id
        found_visit.has_flash = bool(row.flash)
        found_visit.csrf_token = row.csrf


async def _csrf_ok(request: web.Request) -> bool:
    expected = visit(request).csrf_token
    sent = request.headers.get("X-CSRF-Token")
    if sent is None:
        form = await request.post()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    return bool(expected and sent) and hmac.compare_digest(str(expected), str(sent))


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    try:
        if not path.startswith(STATIC_PATH):
            await _load_user(request)
        public = path == LOGIN_PATH or path.startswith(STATIC_PATH)
        if not public and current_user(request) is None:
            if request.method in ("GET", "HEAD"):
                return redirect(f"{LOGIN_PATH}?{urlencode({'next': request.path_qs})}")
            return redirect(LOGIN_PATH)
        if not public and request.method not in ("GET", "HEAD") and not await _csrf_ok(request):
            response: web.StreamResponse = await error_page(request, 403, BAD_CSRF)
        else:
            response = await handler(request)
    except web.HTTPNotFound:
        response = await error_page(request, 404, NOT_FOUND)
    except web.HTTPException:
        raise
    except Exception:  # a broken page shows a Vietnamese message, the log gets the details
        log.exception("admin page %s failed", request.rel_url.path)
        response = await error_page(request, 500, BROKEN)
    if not path.startswith(STATIC_PATH):
        for key, value in HEADERS.items():
            response.headers.setdefault(key, value)
    return response


async def login_form(
    request: web.Request, *, error: str = "", status: int = 200, username: str = ""
) -> web.Response:
    if current_user(request) is not None and not error:
        return redirect(safe_next(request.query.get("next")))
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    notice = LOGGED_OUT if request.query.get("out") == "1" else ""
    response = await render(
        request,
        "login.html",
        status=status,
        title="Đăng nhập",
        error=error,
        notice=notice,
        next=safe_next(request.query.get("next")),
        csrf_token=token,
        username=username,
    )
    _set_cookie(request, response, LOGIN_COOKIE, token)
    return response


async def login_page(request: web.Request) -> web.StreamResponse:
    return await login_form(request)


async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    expected = request.cookies.get(LOGIN_COOKIE, "")
    sent = str(form.get("csrf_token") or "")
    if not expected or not hmac.compare_digest(expected, sent):
        return await error_page(request, 403, BAD_CSRF)
    username = str(form.get("username") or "")[:100]
    password = str(form.get("password") or "")[:1000]
    moment = now(request)
    async with db(request) as session:
        attempt = await logins.authenticate(session, username, password, moment)
        if attempt.outcome == "ok" and attempt.login is not None:
            hours = app_of(request).settings.web_session_hours
            token, _ = await SessionRepo(session).create(attempt.login, moment, hours)
            # Housekeeping at each login keeps both tables small without a scheduler.
            await SessionRepo(session).prune(moment)
            await FailureRepo(session).prune(moment - timedelta(days=1), moment)
    if attempt.outcome != "ok":
        message = {"locked": LOCKED, "no_role": NO_ROLE}.get(attempt.outcome, WRONG)
        log.info("admin login refused (%s)", attempt.outcome)
        return await login_form(request, error=message, status=401, username=username)
    response = redirect(safe_next(str(form.get("next") or "")))
    _set_cookie(request, response, COOKIE, token)
    response.del_cookie(LOGIN_COOKIE, path=PREFIX)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    token = request.cookies.get(COOKIE)
    if token:
        async with db(request) as session:
            await SessionRepo(session).end(token)
    response = redirect(f"{LOGIN_PATH}?out=1")
    response.del_cookie(COOKIE, path=PREFIX)
    return response
