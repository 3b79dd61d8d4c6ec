"""Who may do what: sessions for people, Bearer keys for API clients, one Principal for both."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import redis
from flask import Flask, current_app, g, redirect, request, session, url_for

from routing import current
from routing.auth.cache import principal_cache
from routing.auth.principal import Principal
from routing.errors import REDIS_DOWN, ApiError, log_redis_down, on_error_page, redis_down_seen
from routing.extensions import get_redis

SESSION_USER = "user_email"
# The account's id next to its address: a session belongs to that account, not to a later one with the same
# address (removed and added again, or the address given to someone else).
SESSION_ACCOUNT = "account_id"
# Flask's session is a signed cookie kept by the browser: a copy of it stays valid wherever it is replayed. So a
# session counts only while the account's session generation is still the one it got at login (logout and a
# new password raise it: every session of the account ends), and for at most LOGIN_MAX_HOURS after the login.
SESSION_GENERATION = "session_gen"
SESSION_LOGIN_AT = "login_at"  # epoch seconds
_LOGIN_KEYS = (SESSION_USER, SESSION_ACCOUNT, SESSION_GENERATION, SESSION_LOGIN_AT)
# Why the last login of this browser ended: told once, on the login page (`ended_message`).
SESSION_ENDED = "login_ended"
ENDED_LOGOUT = "logout"  # logged out here, and so on every other device
ENDED_LOGOUT_HERE = "logout_here"  # logged out here only (Redis did not answer, or no login was left)
ENDED_ELSEWHERE = "elsewhere"  # logged out on another device, or a new password
ENDED_EXPIRED = "expired"  # LOGIN_MAX_HOURS passed


def current_principal() -> Principal | None:
    state = current.request_globals()  # not through the proxy (routing.current): every request, several times
    if "principal" not in state:
        state.principal = _resolve_principal()
    return state.principal


def _resolve_principal() -> Principal | None:
    from routing.auth import service

    header = current.this_request().headers.get("Authorization", "")
    if header.startswith("Bearer "):
        # A key that is present but wrong must not fall back to a session cookie.
        key = header.removeprefix("Bearer ").strip()
        return principal_cache().get(("apikey", service.key_digest(key)),
                                     lambda: service.principal_for_api_key(get_redis(), key))
    email = session.get(SESSION_USER)
    if not email:
        return None
    logged_in_at = session.get(SESSION_LOGIN_AT)
    if not isinstance(logged_in_at, int):  # a session from before logins had an age: log in again
        _end_login(None)
        return None
    if service.clock().timestamp() - logged_in_at > current_app.config["LOGIN_MAX_HOURS"] * 3600:
        _end_login(ENDED_EXPIRED)
        return None

    def load() -> Principal | None:
        return service.principal_for_user(get_redis(), email)

    principal = principal_cache().get(("user", email), load)
    generation = session.get(SESSION_GENERATION)
    # Remembered from before this login (another process logged in, or added the account again): read it anew.
    if principal is None or principal.id != session.get(SESSION_ACCOUNT) or (
            isinstance(generation, int) and principal.generation < generation):
        principal = principal_cache().refresh(("user", email), load)
    if principal is None or principal.id != session.get(SESSION_ACCOUNT):
        return None
    if principal.generation != generation:
        _end_login(ENDED_ELSEWHERE)
        return None
    return principal


def _end_login(reason: str | None) -> None:
    """This browser's login no longer counts: drop it from the cookie (the rest, such as the language, stays)."""
    for key in _LOGIN_KEYS:
        session.pop(key, None)
    if reason:
        session[SESSION_ENDED] = reason


def login_values(principal: Principal) -> dict[str, Any]:
    """What a session holds for a login of this account, now."""
    from routing.auth import service

    return {SESSION_USER: principal.email, SESSION_ACCOUNT: principal.id,
            SESSION_GENERATION: principal.generation, SESSION_LOGIN_AT: int(service.clock().timestamp())}


def remember_login(principal: Principal) -> None:
    """Log this account in: a fresh session (nothing of before the login carries over)."""
    session.clear()
    session.permanent = True
    session.update(login_values(principal))


def log_out() -> None:
    """End this browser's login and every other session of the account with it (other devices, a copied
    cookie); the language stays. When Redis does not answer, this browser is still logged out."""
    from routing.auth import service

    reason = ENDED_LOGOUT_HERE
    try:
        principal = current_principal()
        if principal is not None and principal.kind == "user" and service.end_sessions(get_redis(), principal):
            reason = ENDED_LOGOUT
    except REDIS_DOWN as outage:
        log_redis_down(outage)
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session[SESSION_ENDED] = reason


def ended_message(reason: str | None) -> str | None:
    """What the login page tells about the login that ended (`SESSION_ENDED`), or None."""
    from flask_babel import gettext as _
    from flask_babel import ngettext

    if reason == ENDED_LOGOUT:
        return _("U bent uitgelogd. Was u met dit account ook op een ander apparaat ingelogd? Dan bent u daar "
                 "nu ook uitgelogd.")
    if reason == ENDED_LOGOUT_HERE:
        return _("U bent uitgelogd op dit apparaat.")
    if reason == ENDED_ELSEWHERE:
        return _("U bent uitgelogd omdat u met dit account op een ander apparaat bent uitgelogd, of omdat uw "
                 "wachtwoord is veranderd. Log opnieuw in.")
    if reason == ENDED_EXPIRED:
        hours = current_app.config["LOGIN_MAX_HOURS"]
        return ngettext("U bent uitgelogd omdat u langer dan %(num)d uur geleden bent ingelogd. Log opnieuw in.",
                        "U bent uitgelogd omdat u langer dan %(num)d uur geleden bent ingelogd. Log opnieuw in.",
                        hours)
    return None


def _allowed(principal: Principal, roles: tuple[str, ...]) -> bool:
    return not roles or principal.role in roles or principal.role == "admin"


def login_required(*roles: str) -> Callable:
    """Pages: anonymous visitors go to the login page; a wrong role gets a plain 403 page."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not _allowed(principal, roles):
                raise ApiError(403, _forbidden())
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles  # type: ignore[attr-defined]  # read by the menu (may_open)
        return wrapped

    return decorator


def may_open(view: Callable) -> bool:
    """Whether the current account may open a page: its login_required roles, and the page's own
    `menu_shown_to()` where it has one (a worklist only for who serves a location)."""
    principal = current_principal()
    if principal is None:
        return False
    roles = getattr(view, "allowed_roles", ())
    shown_to = getattr(view, "menu_shown_to", None)
    return _allowed(principal, roles) and (shown_to is None or shown_to())


def api_auth(*roles: str) -> Callable:
    """API: a Bearer key (or a logged-in session); 401/403 in the one JSON error shape."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None:
                raise ApiError(401, _unauthenticated())
            if not _allowed(principal, roles):
                raise ApiError(403, _forbidden())
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _forbidden() -> str:
    from flask_babel import gettext as _

    return _("U mag dit niet bekijken of doen met uw account.")


def _unauthenticated() -> str:
    from flask_babel import gettext as _

    return _("Log in of stuur een geldige API-sleutel mee (Authorization: Bearer ...).")


def init_app(app: Flask) -> None:
    from routing.auth import cache, cli, views

    cache.init_app(app)

    app.register_blueprint(views.bp)
    app.cli.add_command(cli.users)
    app.cli.add_command(cli.apikeys)

    @app.context_processor
    def inject_principal() -> dict[str, Any]:
        return {"principal": layout_principal()}


def layout_principal() -> Principal | None:
    """Who the page's header and menu are for. A page that answers an outage (an error page, or a form
    given back because Redis did not answer) must render without Redis: there a principal that cannot be
    looked up counts as not known, and after an outage this request found already, Redis is not asked again
    (a second wait of up to the socket timeout)."""
    if "principal" in g:
        return g.principal
    if redis_down_seen():
        g.principal = None  # the menu (allowed_url → may_open) asks again: not known there either
        return None
    if not on_error_page():
        return current_principal()
    try:
        return current_principal()
    except redis.RedisError:
        g.principal = None
        return None
