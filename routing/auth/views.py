"""Log in and out. The session is renewed at login so a planted session id is worthless."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from marshmallow import EXCLUDE, ValidationError

from routing.auth import remember_login, service
from routing.auth.schemas import LoginSchema
from routing.extensions import get_redis, limiter

bp = Blueprint("auth", __name__)


def _safe_next(target: str) -> str:
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return url_for("ops.home")


def _email_digest() -> str:
    # Throttle per account without putting the address itself in a Redis key.
    return hashlib.sha256(request.form.get("email", "").strip().lower().encode()).hexdigest()[:32]


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.get("/login")
def login():
    return render_template("auth/login.html", next=request.args.get("next", ""), errors={}, values={})


@bp.post("/login")
@limiter.limit(_login_limit, key_func=lambda: f"login-ip:{request.remote_addr}")
@limiter.limit(_login_limit, key_func=lambda: "login-email:" + _email_digest())
def login_post():
    try:
        data = LoginSchema(unknown=EXCLUDE).load(request.form)
    except ValidationError as error:
        return render_template("auth/login.html", next=request.form.get("next", ""),
                               errors=error.messages, values=request.form), 400
    principal = service.authenticate(get_redis(), data["email"], data["password"])
    if principal is None:
        message = _("Dit e-mailadres en wachtwoord horen niet bij elkaar. Probeer het opnieuw.")
        return render_template("auth/login.html", next=data["next"], errors={"_form": [message]},
                               values={"email": data["email"]}), 401
    remember_login(principal)
    return redirect(_safe_next(data["next"]))


@bp.post("/logout")
def logout():
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.login"))
