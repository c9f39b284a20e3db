"""Who may sign in to the dashboard, and with which role: `admin` changes things, `viewer` only reads."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.campaigns.contacts import email_address
from chalicelib.core.errors import Conflict, NotFound, ValidationError
from chalicelib.store.models import DashboardUser

ROLES = ("admin", "viewer")
MAX_NAME = 120


@dataclass(frozen=True)
class Person:
    """A dashboard user (for a view: the one signed in)."""

    email: str
    name: str
    role: str  # "admin" | "viewer"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _person(user: DashboardUser) -> Person:
    return Person(user.email, user.name or "", user.role)


def parse_role(raw: object) -> str:
    if raw not in ROLES:
        raise ValidationError("Choose a role: admin or viewer.", "role")
    return str(raw)


def parse_name(raw: object) -> str:
    name = " ".join(raw.split()) if isinstance(raw, str) else ""
    if len(name) > MAX_NAME or not name.isprintable():
        raise ValidationError(f"A name is at most {MAX_NAME} printable characters.", "name")
    return name


def get_person(email: str) -> Person | None:
    """The user with this (normalised) address, or None."""
    try:
        return _person(DashboardUser.get("team", email, consistent_read=True))
    except DashboardUser.DoesNotExist:
        return None


def list_people() -> list[Person]:
    """Everyone who may sign in, by address."""
    return [_person(u) for u in DashboardUser.query("team", consistent_read=True)]


def add_person(raw_email: object, raw_name: object, raw_role: object, now: float) -> Person:
    """A new user. Raises ValidationError (field email, name or role) or Conflict when the address has one."""
    email, name, role = email_address(raw_email), parse_name(raw_name), parse_role(raw_role)
    user = DashboardUser("team", email, name=name, role=role, created_at=now, updated_at=now)
    try:
        user.save(DashboardUser.email.does_not_exist())
    except DashboardUser.PutError:
        raise Conflict(f"{email} can already sign in.", "email") from None
    return _person(user)


def set_role(email: str, raw_role: object, now: float) -> Person:
    """Change a user's role; NotFound for an unknown address, Conflict when it would leave no admin."""
    role = parse_role(raw_role)
    user = _user(email)
    if user.role == "admin" and role != "admin":
        _keep_an_admin(email)
    user.update([DashboardUser.role.set(role), DashboardUser.updated_at.set(now)])
    return _person(user)


def remove_person(email: str) -> None:
    """Remove a user (their sessions stop working at their next request); NotFound, or Conflict for the last admin."""
    user = _user(email)
    if user.role == "admin":
        _keep_an_admin(email)
    user.delete()


def _user(email: str) -> DashboardUser:
    try:
        return DashboardUser.get("team", email if isinstance(email, str) else "", consistent_read=True)
    except DashboardUser.DoesNotExist:
        raise NotFound(f"No dashboard user {str(email)[:120]!r}.", "email") from None


def _keep_an_admin(leaving: str) -> None:
    if not any(p.is_admin and p.email != leaving for p in list_people()):
        raise Conflict(f"{leaving} is the last admin: make someone else an admin first.", "email")
