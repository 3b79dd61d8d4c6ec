"""Log in and out. The session is renewed at login so a planted session id is worthless."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from marshmallow import EXCLUDE, ValidationError

from routing.auth import SESSION_ENDED, ended_message, log_out, remember_login, service
from routing.auth.schemas import LoginSchema
from routing.extensions import get_redis, limiter
from routing.privacy import clients, crypto

bp = Blueprint("auth", __name__)


def _safe_next(target: str) -> str:
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return url_for("ops.home")


def _address_key() -> str:
    # Per client (an IPv6 client by its /64), as a keyed pseudonym: no address in a Redis key or log line.
    return "login-ip:" + clients.current_rate_limit_id()


def _email_key() -> str:
    # Throttle per account without putting the e-mail address itself in a Redis key: a keyed pseudonym.
    email = service.normalise_email(request.form.get("email", ""))
    return "login-email:" + crypto.pseudonym_key("login-email", email)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.get("/login")
def login():
    # Why the last login ended (logged out, or it no longer counts): told once.
    return render_template("auth/login.html", next=request.args.get("next", ""), errors={}, values={},
                           notice=ended_message(session.pop(SESSION_ENDED, None)))


@bp.post("/login")
@limiter.limit(_login_limit, key_func=_address_key)
@limiter.limit(_login_limit, key_func=_email_key)
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
    log_out()  # this login and every other session of the account (other devices, a copied cookie)
    return redirect(url_for("auth.login"))
