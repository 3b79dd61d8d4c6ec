"""Constants and small helpers shared by the handover tests."""

from __future__ import annotations

import re
from typing import Any

LOCATION = "amsterdam-centrum"
OTHER_LOCATION = "utrecht"
PHONE = "06 12345678"
E164 = "+31612345678"
# The demo directory's channels (config/directory): UWV's team SMS, Amsterdam Centrum's on-duty SMS.
UWV_SMS = "+31610000003"
ON_DUTY_SMS = "+31610000201"
_TOKEN_IN_LINK = re.compile(r"/o/([A-Za-z0-9_-]{43})$")


def token_of(notice: dict[str, Any]) -> str:
    match = _TOKEN_IN_LINK.search(notice["context"]["link"])
    assert match, notice["context"]["link"]
    return match.group(1)


def link_path(notice: dict[str, Any]) -> str:
    return "/o/" + token_of(notice)


def open_link(client, notice: dict[str, Any], query: str = ""):
    """What the partner employee does: follow the link (a page with one button), press the button (which
    uses the link up). Returns the page they end on."""
    path = link_path(notice)
    page = client.get(path + query)
    assert page.status_code == 200 and f'action="{path}"' in page.get_data(as_text=True), page.status
    return client.post(path + query, follow_redirects=True)
