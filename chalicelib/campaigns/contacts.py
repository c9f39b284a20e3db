"""Contacts: who can be asked, with free-form properties that become segments."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import PutError

from chalicelib.core.errors import ValidationError
from chalicelib.core.headers import header_problem
from chalicelib.core.signing import new_id
from chalicelib.store import bind
from chalicelib.store.models import Contact
from chalicelib.store.transact import ConditionFailed, update

MAX_PROPERTIES = 50
LIST_PK = "contact"  # the all-contacts index's one partition: the v1 API lists people from it; every write sets it
BACKFILL_PAGE = 500  # contacts read by one Scan request of backfill_list
MAX_PROPERTY_VALUE = 500
_PROPERTY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
# One recipient of a request (parse_recipients): a bad row is reported, not refused, so nothing is typed here.
RECIPIENT_SCHEMA: dict[str, Any] = {
    "description": "{email, properties}; a row that is not, or has a bad address or property, is reported "
    "in rejected_rows and the others are imported",
    "properties": {"email": {"description": "the address"}, "properties": {"description": "names to values"}},
}


@dataclass
class Recipient:
    """An address with its properties; `guessed` are properties read from a pasted display name (`name`,
    `first_name`): stored only where the contact has none yet, so a value given otherwise is never
    overwritten by a guess."""

    email: str
    properties: dict[str, Any] = field(default_factory=dict)
    guessed: dict[str, Any] = field(default_factory=dict)


# What Rejection.to_json returns: one row of an import's rejected_rows.
REJECTION_JSON: dict[str, Any] = {
    "type": "object",
    "required": ["row", "field", "message"],
    "properties": {
        "row": {"type": "integer", "description": "the row's number: 1 is the first line after a CSV's header"},
        "field": {"type": "string", "example": "row[3].email"},
        "message": {"type": "string"},
    },
}


@dataclass
class Rejection:
    """A rejected row; `address` is its place among the addresses of one pasted line (0: the row as a whole)."""

    row: int
    field: str
    message: str
    address: int = 0

    def to_json(self) -> dict:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class RecipientBatch:
    recipients: list[Recipient]
    rejected: list[Rejection]
    duplicates: int


def normalize_email(raw: Any) -> str:
    return raw.strip().lower() if isinstance(raw, str) else ""


def email_hash(email: str) -> str:
    return hashlib.sha256(normalize_email(email).encode()).hexdigest()


def email_address(raw: Any, field: str = "email") -> str:
    """The address as SES is given it: trimmed, lower-cased, an internationalised domain in its ASCII
    (IDNA, punycode) form: `Ana@München.example` -> `ana@xn--mnchen-3ya.example`.

    The one definition of a deliverable address, used at every entry (API, CSV, options, digest,
    preview). Parsed by email-validator (RFC 5321/5322, the IDNA rules and Unicode safety) rather than
    a regex of ours; local parts SES or the MIME layer cannot carry (non-ASCII, which needs SMTPUTF8,
    quoted, dots misplaced, control or invisible characters, more than 64 characters) and domain
    literals or special-use domains (.local, .test, .invalid) are refused. No DNS lookup is made.
    Raises ValidationError(reason, field).
    """
    from email_validator import EmailNotValidError, validate_email

    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        raise ValidationError("An email address is required.", field)
    shown = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text[:60])
    if "@" not in text:
        raise ValidationError(f"“{shown}” is not a valid email address.", field)
    try:
        parsed = validate_email(text, check_deliverability=False, allow_smtputf8=False, strict=True)
    except EmailNotValidError as exc:
        raise ValidationError(f"“{shown}” is not a valid email address: {exc}", field) from None
    return parsed.ascii_email.lower()


def properties_problem(props: Any) -> tuple[str, str] | None:
    """(field suffix, message) for the first bad property, or None."""
    if not isinstance(props, Mapping):
        return "", "Properties are an object of names to text or numbers."
    if len(props) > MAX_PROPERTIES:
        return "", f"At most {MAX_PROPERTIES} properties per contact."
    for name, value in props.items():
        if not isinstance(name, str) or not _PROPERTY.match(name):
            return f".{name}", "A property name is letters, digits, _ . or -, starting with a letter or _."
        if value is not None and not isinstance(value, str | int | float | bool):
            return f".{name}", "A property value is text, a number, true/false or null."
        if isinstance(value, str) and len(value) > MAX_PROPERTY_VALUE:
            return f".{name}", f"A property value has at most {MAX_PROPERTY_VALUE} characters."
        problem = header_problem(value) if isinstance(value, str) else None
        if problem:  # a name in a subject line reaches a header
            return f".{name}", f"A property value cannot hold {problem}."
    return None


def parse_recipients(
    rows: Iterable[tuple[int, Any]], path: str = "recipients", guessed: bool = False
) -> RecipientBatch:
    """Valid recipients, duplicates merged (later properties win); every rejected row explained. With
    `guessed` (rows we read from a file, never a JSON body), a row's `guessed` properties are kept as
    Recipient.guessed, validated as properties are."""
    merged: dict[str, Recipient] = {}
    rejected: list[Rejection] = []
    duplicates = 0
    for row, item in rows:
        if not isinstance(item, Mapping):
            rejected.append(Rejection(row, f"{path}[{row}]", "Each recipient is an object with an email."))
            continue
        try:
            email = email_address(item.get("email"), f"{path}[{row}].email")
        except ValidationError as exc:
            rejected.append(Rejection(row, exc.field or "", exc.message))
            continue
        props = item.get("properties") or {}
        bad = properties_problem(props)
        if bad:
            rejected.append(Rejection(row, f"{path}[{row}].properties{bad[0]}", bad[1]))
            continue
        guesses = (item.get("guessed") or {}) if guessed else {}
        bad = properties_problem(guesses)
        if bad:
            rejected.append(Rejection(row, f"{path}[{row}].properties{bad[0]}", bad[1]))
            continue
        clean = {k: v for k, v in props.items() if v is not None and v != ""}
        if email in merged:
            duplicates += 1
            merged[email].properties.update(clean)
            merged[email].guessed.update(guesses)
        else:
            merged[email] = Recipient(email, clean, dict(guesses))
    return RecipientBatch(list(merged.values()), rejected, duplicates)


def upsert(recipient: Recipient, now: float) -> None:
    """Create the contact, or merge its properties into the existing one, keeping its id and history.

    Either way it is on the all-contacts index (`list_pk`), which the v1 API lists people from: a contact
    made before the index exists gets it here, at its own `created_at`, so the listing's order holds.
    Its `guessed` properties are set only where the contact has none (if_not_exists)."""
    bind()
    contact = Contact(
        recipient.email,
        id=new_id(),
        properties={**recipient.guessed, **recipient.properties},
        created_at=now,
        updated_at=now,
        list_pk=LIST_PK,
    )
    try:
        contact.save(condition=Contact.email.does_not_exist())
        return
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
    actions = [Contact.updated_at.set(now), Contact.list_pk.set(Contact.list_pk | LIST_PK)]
    actions += [Contact.properties[name].set(value) for name, value in recipient.properties.items()]
    actions += [
        Contact.properties[name].set(Contact.properties[name] | value)
        for name, value in recipient.guessed.items()
        if name not in recipient.properties
    ]
    Contact(recipient.email).update(actions=actions)


def claim_survey(email: str, invitation_id: str, now: float, window_days: int) -> bool:
    """Reserve this contact for one survey unless they had another within the window (survey fatigue).

    Atomic, so two campaigns sending at the same moment cannot both ask the same person;
    the invitation that holds the reservation may claim it again (a retried send).
    """
    cutoff = now - window_days * 86400
    try:
        update(
            Contact,
            email,
            [
                Contact.last_surveyed_at.set(now),
                Contact.last_survey_invitation.set(invitation_id),
                Contact.id.set(Contact.id | new_id()),
                Contact.created_at.set(Contact.created_at | now),
                Contact.updated_at.set(now),
                Contact.list_pk.set(Contact.list_pk | LIST_PK),
            ],
            Contact.last_surveyed_at.does_not_exist()
            | (Contact.last_surveyed_at < cutoff)
            | (Contact.last_survey_invitation == invitation_id),
        )
    except ConditionFailed:
        return False
    return True


def backfill_list(progress: Callable[[str], None], after: str | None = None, page: int = BACKFILL_PAGE) -> int:
    """Put on the all-contacts index every contact written before every write set `list_pk`; how many.

    A repair command's Scan (no product path scans): `page` contacts per request, a progress line after
    each naming the address to resume `after`. Idempotent: a contact listed already is not written, and
    one deleted meanwhile (chalicelib.privacy.deletion) is not created again.
    """
    bind()
    found = Contact.scan(
        filter_condition=Contact.list_pk.does_not_exist(),
        attributes_to_get=["email"],
        page_size=page,
        last_evaluated_key={"email": {"S": after}} if after else None,
    )
    scanned = added = 0
    for result in found.page_iter:
        for item in result.get("Items", []):
            try:
                update(
                    Contact,
                    item["email"]["S"],
                    [Contact.list_pk.set(LIST_PK)],
                    Contact.email.exists() & Contact.list_pk.does_not_exist(),
                )
                added += 1
            except ConditionFailed:
                pass  # deleted or listed meanwhile
        scanned += result["ScannedCount"]
        resume = result.get("LastEvaluatedKey", {}).get("email", {}).get("S")
        progress(
            f"scanned {scanned:,} contacts, {added:,} added to the people list"
            + (f" (to resume: --after {resume})" if resume else "; done")
        )
    return added
