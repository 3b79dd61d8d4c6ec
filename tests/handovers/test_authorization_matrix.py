"""Who may use which route: every handover, callback, directory and audit route × every role.

The matrix is checked against the app's url_map: a new route in one of these features without an entry
here fails `test_every_route_has_an_entry`. Each cell runs in a fresh world (one handover, one callback
request, an unused partner link), so one role's change cannot hide another role's access.

Expected outcomes: an HTTP status; "login" (redirect to the login page); "ok" (served); "personal" / "plain"
(served, with / without the citizen's phone number); "listed" / "unlisted" (served, with / without the
record's reference); "public" (the same answer for everyone, anonymous included).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from handovers.helpers import E164, LOCATION, OTHER_LOCATION, token_of

ROLES = ("anonymous", "staff_other", "staff_own", "partner_other", "partner_own", "coordinator", "admin")
OWN_PARTNER, OTHER_PARTNER = "uwv", "svb"
FEATURES = ("handovers", "callback", "directory", "audit")
PHONE_DIGITS = "12345678"  # in E.164, national and international display alike


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # {handover} {handover_typed} {callback} {token} {withdraw_token} {location}: from the world
    expect: dict[str, Any]
    body: dict[str, Any] = field(default_factory=dict)
    as_json: bool = False
    use_token_first: bool = False  # the partner link was opened once already
    follow: bool = False  # judge the page a redirect leads to (the partner link's button)


def every(outcome: Any) -> dict[str, Any]:
    return dict.fromkeys(ROLES, outcome)


def roles(anonymous: Any, staff_other: Any, staff_own: Any, partner_other: Any, partner_own: Any,
          coordinator: Any, admin: Any) -> dict[str, Any]:
    return dict(zip(ROLES, (anonymous, staff_other, staff_own, partner_other, partner_own, coordinator, admin),
                    strict=True))


NEW_HANDOVER = {"location": LOCATION, "partner": "uwv", "phone": "06 87654321", "consent": "yes"}
NEW_CALLBACK = {"location": LOCATION, "phone": "06 11223344", "consent": True}
SIGNED_ONLY = every(403)  # Twilio webhooks: only requests signed with the auth token

MATRIX: dict[str, list[Case]] = {
    # --- handovers: pages
    "handovers.aftercare": [Case("GET", "/overdrachten", roles(
        "login", "unlisted", "listed", "unlisted", "listed", "listed", "listed")),
        # Searching by kenmerk finds only what the list would show ({handover_typed}: as typed, lower case
        # with a space for the dash, so the page echoing the search does not count as listing the handover).
        Case("GET", "/overdrachten?kenmerk={handover_typed}", roles(
            "login", "unlisted", "listed", "unlisted", "listed", "listed", "listed"))],
    "handovers.new": [
        Case("GET", "/overdrachten/nieuw?location={location}", roles("login", 403, "ok", 403, 403, 403, 403)),
        Case("POST", "/overdrachten/nieuw", roles("login", 403, "ok", 403, 403, 403, 403), NEW_HANDOVER),
    ],
    "handovers.detail": [Case("GET", "/overdrachten/{handover}", roles(
        "login", 404, "personal", 404, "personal", "plain", "plain"))],
    "handovers.attempt": [Case("POST", "/overdrachten/{handover}/poging", roles(
        "login", 404, 403, 404, "ok", 403, 403), {"result": "reached"})],
    "handovers.outcome": [Case("POST", "/overdrachten/{handover}/uitkomst", roles(
        "login", 404, 403, 404, "ok", 403, 403), {"outcome": "solved"})],
    # Only the loket that made it records that it helped the citizen itself; this world's handover is still with
    # the partner, so even the loket is refused (409): nothing waits for it.
    "handovers.settled_by_loket": [Case("POST", "/overdrachten/{handover}/zelf-geholpen", roles(
        "login", 404, 409, 404, 403, 403, 403))],
    # The link itself is the credential: whoever holds an unused one sees that one handover, once. Following
    # it (GET, as mail filters do) shows only a button; pressing it (POST) uses it up and opens the handover.
    "handovers.open_link": [
        Case("GET", "/o/{token}", every("plain")),
        Case("GET", "/o/{token}", every(410), use_token_first=True),
        Case("GET", "/o/" + "A" * 43, every(404)),
        Case("POST", "/o/{token}", every("personal"), follow=True),
        Case("POST", "/o/{token}", every(410), use_token_first=True),
        Case("POST", "/o/" + "A" * 43, every(404)),
    ],
    "handovers.resend_link": [
        Case("POST", "/o/{token}/nieuwe-link", every(200), use_token_first=True),
        Case("POST", "/o/" + "A" * 43 + "/nieuwe-link", every(404)),
    ],
    # --- handovers: API
    "handovers_api.Handovers": [Case("POST", "/api/v1/handovers", roles(401, 403, 201, 403, 403, 403, 403),
                                     NEW_HANDOVER | {"consent": True}, as_json=True)],
    "handovers_api.OneHandover": [Case("GET", "/api/v1/handovers/{handover}", roles(
        401, 404, "personal", 404, "personal", "plain", "plain"))],
    "handovers_api.Attempts": [Case("POST", "/api/v1/handovers/{handover}/attempts", roles(
        401, 403, 403, 404, "ok", 403, 403), {"result": "reached"}, as_json=True)],
    "handovers_api.Outcome": [Case("POST", "/api/v1/handovers/{handover}/outcome", roles(
        401, 403, 403, 404, "ok", 403, 403), {"outcome": "solved"}, as_json=True)],
    # --- audit
    "audit.search": [Case("GET", "/logboek?reference={handover}", roles("login", 403, 403, 403, 403, "listed", "listed"))],
    "audit_api.ReferenceAudit": [Case("GET", "/api/v1/audit/{handover}", roles(401, 403, 403, 403, 403, "listed", "listed"))],
    # --- callbacks: citizen side is public; the worklist is for staff of the location, coordinators follow
    # it without personal fields (as with handovers: status only, no attempts)
    "callbacks.form": [Case("GET", "/l/{location}/terugbellen", every("public")),
                       Case("POST", "/l/{location}/terugbellen", every("public"), {"phone": ""})],
    "callbacks.confirmation": [Case("GET", "/l/{location}/terugbellen/bevestiging", every("public"))],
    "callbacks.privacy_page": [Case("GET", "/l/{location}/terugbellen/privacy", every("public"))],
    "callbacks.location_home": [Case("GET", "/l/{location}", every("public")),
                                Case("GET", "/l/{location}/", every("public"))],
    "callbacks.done_here": [Case("POST", "/l/{location}/terugbellen/klaar", every("public"))],
    "callbacks.withdraw_page": [Case("GET", "/l/{location}/terugbellen/{callback}/intrekken", every("public")),
                                Case("POST", "/l/{location}/terugbellen/{callback}/intrekken", every("public"))],
    # Partners without a counter have no worklist at all (403); staff of another location see their own.
    "callbacks.worklist": [Case("GET", "/loket/terugbelverzoeken", roles(
        "login", "unlisted", "listed", 403, 403, "listed", "listed"))],
    "callbacks.detail": [Case("GET", "/loket/terugbelverzoeken/{callback}", roles(
        "login", 404, "personal", 404, 404, "plain", "plain"))],
    "callbacks.attempt": [Case("POST", "/loket/terugbelverzoeken/{callback}/poging", roles(
        "login", 404, "ok", 404, 404, 403, 403), {"result": "not_reached"})],
    # Finding by kenmerk only redirects: to the request (callbacks.detail, whose own rules apply) for who may
    # see it, else back to the list with the same answer for unknown and not-yours (test_worklist_claims).
    "callbacks.find": [Case("GET", "/loket/terugbelverzoeken/zoek?kenmerk={callback}", roles(
        "login", 302, 302, 302, 302, 302, 302))],
    "callbacks.take_over": [Case("POST", "/loket/terugbelverzoeken/{callback}/overnemen", roles(
        "login", 404, "ok", 404, 404, 403, 403))],
    # Allowed for staff of the location; in this world nobody has taken the request, so there is nothing to
    # give back (409).
    "callbacks.give_back": [Case("POST", "/loket/terugbelverzoeken/{callback}/terugzetten", roles(
        "login", 404, 409, 404, 404, 403, 403))],
    "callbacks.door_qr": [Case("GET", "/loket/terugbellen-qr/{location}.svg", roles(
        "login", 404, "ok", 404, 404, "ok", "ok"))],
    # Anonymous counts of the locations one follows (staff of another location see their own; test_figures.py
    # checks which); partners without a counter have none.
    "callbacks.figures_page": [Case("GET", "/loket/terugbelverzoeken/cijfers", roles(
        "login", "ok", "ok", 403, 403, "ok", "ok"))],
    "callbacks.figures_csv": [Case("GET", "/loket/terugbelverzoeken/cijfers.csv", roles(
        "login", "ok", "ok", 403, 403, "ok", "ok"))],
    "callbacks_api.Choices": [Case("GET", "/api/v1/callbacks/choices/{location}", roles(
        401, 403, "ok", 403, 403, "ok", "ok"))],
    "callbacks_api.Callbacks": [Case("POST", "/api/v1/callbacks", roles(401, 403, 201, 403, 403, 201, 201),
                                     NEW_CALLBACK, as_json=True)],
    # Who does not follow the location learns nothing, not even that the reference exists.
    "callbacks_api.CallbackByReference": [Case("GET", "/api/v1/callbacks/{callback}", roles(
        401, 404, "personal", 404, 404, "plain", "plain"))],
    "callbacks_api.Withdraw": [Case("POST", "/api/v1/callbacks/{callback}/withdraw", every("public"),
                                    {"token": "not-the-token"}, as_json=True)],
    "callback_hooks.sms": [Case("POST", "/hooks/twilio/sms", SIGNED_ONLY, {"From": E164, "Body": "hallo"})],
    "callback_hooks.whatsapp": [Case("POST", "/hooks/twilio/whatsapp", SIGNED_ONLY, {"From": E164})],
    "callback_hooks.voice": [Case("POST", "/hooks/twilio/voice", SIGNED_ONLY, {"From": E164})],
    "callback_hooks.voice_choice": [Case("POST", "/hooks/twilio/voice/keuze", SIGNED_ONLY, {"Digits": "1"})],
    # --- directory: staff and coordinators look up lines; partners have no business here
    "directory.search": [Case("GET", "/directory/?location={location}&q=toeslag", roles(
        "login", 403, "ok", 403, 403, "ok", "ok"))],
    "directory.results_fragment": [Case("GET", "/directory/results?location={location}&q=toeslag", roles(
        "login", 403, "ok", 403, 403, "ok", "ok"))],
    "directory.choose_location": [Case("GET", "/directory/locations", roles(
        "login", "ok", "ok", 403, 403, "ok", "ok"))],
    "directory.choose_location_post": [Case("POST", "/directory/locations", roles(
        "login", 403, "ok", 403, 403, "ok", "ok"), {"location": LOCATION})],
    "directory.partner": [Case("GET", "/directory/partners/uwv?location={location}", roles(
        "login", 403, "ok", 403, 403, "ok", "ok"))],
    "directory_api.list_locations": [Case("GET", "/api/v1/locations", roles(401, "ok", "ok", 403, 403, "ok", "ok"))],
    "directory_api.get_location": [Case("GET", "/api/v1/locations/{location}", roles(
        401, 403, "ok", 403, 403, "ok", "ok"))],
    "directory_api.search": [Case("GET", "/api/v1/search?location={location}&q=toeslag", roles(
        401, 403, "ok", 403, 403, "ok", "ok"))],
}

CASES = [(endpoint, index) for endpoint, cases in MATRIX.items() for index in range(len(cases))]


def _in_scope(endpoint: str) -> bool:
    return endpoint.split(".", 1)[0].startswith(FEATURES)


def test_every_route_has_an_entry(app):
    routed = {rule.endpoint for rule in app.url_map.iter_rules() if _in_scope(rule.endpoint)}
    assert routed - set(MATRIX) == set(), "routes without an authorization entry"
    assert set(MATRIX) - routed == set(), "entries for routes that no longer exist"
    for rule in app.url_map.iter_rules():
        if rule.endpoint in MATRIX:
            tested = {case.method for case in MATRIX[rule.endpoint]}
            assert rule.methods - {"HEAD", "OPTIONS"} <= tested, f"{rule.endpoint}: untested methods"


def _build_world(redis, make_handover, sent) -> dict[str, str]:
    from routing.callbacks import service as callbacks

    redis.flushdb()
    [handover] = make_handover(OWN_PARTNER)
    receipt = callbacks.create_request(redis, callbacks.Intake(location=LOCATION, phone=E164, channel="web"))
    # The worklist shows requests that are open; make this one open whatever the day and hour.
    callbacks.store.transition(redis, receipt.reference, "open", callbacks.states.allowed_from("open"),
                               now=0, stats_key="ll:test:stats")
    return {"handover": handover.reference, "handover_typed": handover.reference.lower().replace("-", "+"),
            "callback": receipt.reference, "token": token_of(sent[-1]),
            "withdraw_token": receipt.withdraw_token, "location": LOCATION}


ACCOUNTS = {
    "staff_other": ("staff", [OTHER_LOCATION], None),
    "staff_own": ("staff", [LOCATION], None),
    "partner_other": ("partner", [], OTHER_PARTNER),
    "partner_own": ("partner", [], OWN_PARTNER),
    "coordinator": ("coordinator", [], None),
    "admin": ("admin", [], None),
}
_accounts: dict[str, dict[str, Any]] = {}


def _log_in(client, redis, role: str) -> None:
    """Log in as `role` without paying for a password hash per cell: the account record is made once
    (with a real argon2 hash) and re-stored after each flush; the session is the one login would set."""
    from routing.auth import login_values
    from routing.auth import service as accounts
    from routing.store import users

    if role not in _accounts:
        kind, locations, partner = ACCOUNTS[role]
        _accounts[role] = accounts.add_user(redis, f"{role}@matrix.example.org", "matrix-password-1234",
                                            kind, locations, partner, actor="test")
    users.save_user(redis, _accounts[role])
    principal = accounts.principal_for_user(redis, _accounts[role]["email"])
    with client.session_transaction() as session:
        session.update(login_values(principal))


def _request(client, case: Case, world: dict[str, str]):
    path = case.path.format(**world)
    if case.method == "GET":
        return client.get(path)
    if case.as_json:
        return client.post(path, json=case.body)
    return client.post(path, data=case.body, follow_redirects=case.follow)


def _outcome(response, expected: Any, world: dict[str, str]) -> Any:
    """Describe the response in the terms of the expectation, so a mismatch reads plainly."""
    status = response.status_code
    location = response.headers.get("Location", "")
    if status == 302 and "/login" in location:
        return "login"
    if isinstance(expected, int) or expected == "public":
        return status
    if status >= 400:
        return status
    body = response.get_data(as_text=True)
    if expected in ("personal", "plain"):
        return "personal" if PHONE_DIGITS in body else "plain"
    if expected in ("listed", "unlisted"):
        return "listed" if (world["handover"] in body or world["callback"] in body) else "unlisted"
    return "ok"


@pytest.mark.parametrize("endpoint,index", CASES, ids=[f"{e}[{i}]" for e, i in CASES])
def test_access(app, redis, make_handover, sent, endpoint, index):
    case = MATRIX[endpoint][index]
    seen: dict[str, Any] = {}
    for role in ROLES:
        world = _build_world(redis, make_handover, sent)
        if case.use_token_first:
            assert app.test_client().post(f"/o/{world['token']}").status_code == 303
        client = app.test_client()
        if role != "anonymous":
            _log_in(client, redis, role)
        response = _request(client, case, world)
        expected = case.expect[role]
        if expected == "public":
            anonymous = _request(app.test_client(), case, world).status_code
            public = response.status_code == anonymous and response.status_code not in (401, 403)
            seen[role] = "public" if public else response.status_code
        else:
            seen[role] = _outcome(response, expected, world)
    assert seen == case.expect
