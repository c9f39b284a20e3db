"""Who may sign in to the dashboard, and with which role: `admin` changes things, `viewer` only reads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.campaigns.contacts import email_address
from chalicelib.core.errors import Conflict, NotFound, ValidationError
from chalicelib.store.models import DashboardUser
from chalicelib.store.transact import put_new

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


def person_since(email: str) -> tuple[Person, float] | None:
    """The user with this address and when they were added (epoch seconds), or None. A session started
    before that belonged to someone removed since, even if the address was added again."""
    try:
        user = DashboardUser.get("team", email, consistent_read=True)
    except DashboardUser.DoesNotExist:
        return None
    return _person(user), user.created_at


def list_people() -> list[Person]:
    """Everyone who may sign in, by address."""
    return [_person(u) for u in DashboardUser.query("team", consistent_read=True)]


def add_person(raw_email: object, raw_name: object, raw_role: object, now: float) -> Person:
    """A new user. Raises ValidationError (field email, name or role) or Conflict when the address has one."""
    email, name, role = email_address(raw_email), parse_name(raw_name), parse_role(raw_role)
    user = DashboardUser("team", email, name=name, role=role, created_at=now, updated_at=now)
    if put_new(user) is not None:
        raise Conflict(f"{email} can already sign in.", "email")
    return _person(user)


def set_role(email: object, raw_role: object, now: float) -> Person:
    """Change a user's role (their open sessions have it from their next request); ValidationError for
    something that is not an address, NotFound for an unknown one, Conflict when it would leave no admin."""
    role = parse_role(raw_role)
    user = _user(email)
    actions = [DashboardUser.role.set(role), DashboardUser.updated_at.set(now)]
    if user.role == "admin" and role != "admin":
        with _keeping_an_admin(user) as transaction:
            transaction.update(user, actions, DashboardUser.role == "admin")
    else:
        user.update(actions)
    return Person(user.email, user.name or "", role)


def remove_person(email: object) -> None:
    """Remove a user: every session they had ends (`sessions.check_session` refuses a session older than
    its user, so adding the address again revives none). ValidationError for something that is not an
    address, NotFound for an unknown one, Conflict for the last admin."""
    user = _user(email)
    if user.role != "admin":
        user.delete()
        return
    with _keeping_an_admin(user) as transaction:
        transaction.delete(user, DashboardUser.role == "admin")


def _user(raw_email: object) -> DashboardUser:
    email = email_address(raw_email)  # never an empty or over-long key
    try:
        return DashboardUser.get("team", email, consistent_read=True)
    except DashboardUser.DoesNotExist:
        raise NotFound(f"No dashboard user {email!r}.", "email") from None


@contextmanager
def _keeping_an_admin(leaving: DashboardUser) -> Iterator[TransactWrite]:
    """A transaction that changes `leaving` only while another admin stays one: two admins demoting
    each other at the same moment cannot both succeed. Conflict (409) when none would be left."""
    last = Conflict(f"{leaving.email} is the last admin: make someone else an admin first.", "email")
    other = next((p for p in list_people() if p.is_admin and p.email != leaving.email), None)
    if other is None:
        raise last
    try:
        with TransactWrite(connection=DashboardUser._get_connection().connection) as transaction:
            transaction.condition_check(DashboardUser, "team", other.email, DashboardUser.role == "admin")
            yield transaction
    except TransactWriteError as exc:
        if "ConditionalCheckFailed" not in [r.code if r else None for r in exc.cancellation_reasons]:
            raise
        raise last from None
