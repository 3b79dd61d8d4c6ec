"""Who may do what: sessions for people, Bearer keys for API clients, one Principal for both."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import redis
from flask import Flask, g, redirect, request, session, url_for

from routing.auth.cache import principal_cache
from routing.auth.principal import Principal
from routing.errors import ApiError, on_error_page, redis_down_seen
from routing.extensions import get_redis

SESSION_USER = "user_email"
# The account's id next to its address: a session belongs to that account, not to a later one with the same
# address (removed and added again, or the address given to someone else).
SESSION_ACCOUNT = "account_id"


def current_principal() -> Principal | None:
    if "principal" not in g:
        g.principal = _resolve_principal()
    return g.principal


def _resolve_principal() -> Principal | None:
    from routing.auth import service

    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        # A key that is present but wrong must not fall back to a session cookie.
        key = header.removeprefix("Bearer ").strip()
        return principal_cache().get(("apikey", service.key_digest(key)),
                                     lambda: service.principal_for_api_key(get_redis(), key))
    email = session.get(SESSION_USER)
    if not email:
        return None
    principal = principal_cache().get(("user", email), lambda: service.principal_for_user(get_redis(), email))
    if principal is None or principal.id != session.get(SESSION_ACCOUNT):
        return None
    return principal


def remember_login(principal: Principal) -> None:
    """Log this account in: a fresh session (nothing of before the login carries over)."""
    session.clear()
    session.permanent = True
    session[SESSION_USER] = principal.email
    session[SESSION_ACCOUNT] = principal.id


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
        g.principal = None  # the menu (menu_url → may_open) asks again: not known there either
        return None
    if not on_error_page():
        return current_principal()
    try:
        return current_principal()
    except redis.RedisError:
        g.principal = None
        return None
