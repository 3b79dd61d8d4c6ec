"""Who is asking: a logged-in user or an API key, with the same role and scope."""

from __future__ import annotations

from dataclasses import dataclass, field

# kiosk: API keys only (a tablet at the door or a partner portal): creates requests for its locations and
# follows their status, never sees personal fields.
ROLES = ("staff", "partner", "coordinator", "admin", "kiosk")
# Roles only an API key can have: never an account's (`users add` neither offers nor accepts them).
KEY_ONLY_ROLES = ("kiosk",)
PERSON_ROLES = tuple(role for role in ROLES if role not in KEY_ONLY_ROLES)


def key_only_role_message(role: str) -> str:
    """Why a person cannot have this role, and which roles they can have: the one text for the CLI and service."""
    return f"{role} is a role for API keys, not for people; use one of {', '.join(PERSON_ROLES)}"


@dataclass(frozen=True)
class Principal:
    id: str
    kind: str  # "user" | "apikey"
    role: str
    locations: frozenset[str] = field(default_factory=frozenset)
    partner: str | None = None
    email: str | None = None
    # Accounts: the session generation a session must carry to count (routing.auth); keys have none.
    generation: int = 0

    @property
    def qualified_id(self) -> str:
        """`user:<id>` or `apikey:<id>`: how the audit log names an account or key wherever either may act."""
        return f"{self.kind}:{self.id}"

    @property
    def sees_everything(self) -> bool:
        return self.role in ("admin", "coordinator")

    def can_see_location(self, location_id: str) -> bool:
        return self.sees_everything or (self.role == "staff" and location_id in self.locations)

    def can_see_partner(self, partner_id: str) -> bool:
        return self.sees_everything or (self.role == "partner" and self.partner == partner_id)

    def visible_locations(self, all_location_ids: list[str]) -> list[str]:
        return [loc for loc in all_location_ids if self.can_see_location(loc)]
