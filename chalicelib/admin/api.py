"""Admin API use cases: each takes parsed input and returns (status, JSON body).

Routes in app.py authenticate, then call one of these. Errors are raised as CloseloopError
subclasses and become JSON with a message and the field at fault.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import hashlib
import io
import json
from datetime import date, datetime, time
from email import policy
from email.message import Message
from email.parser import BytesParser
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from chalicelib import mail
from chalicelib.admin import ratelimit
from chalicelib.admin.auth import Caller
from chalicelib.answers import held
from chalicelib.campaigns import campaigns, contacts, suppression
from chalicelib.core import i18n, personalize, translations
from chalicelib.core.config import get_settings
from chalicelib.core.errors import Conflict, CursorRefused, NotFound, PayloadTooLarge, ValidationError
from chalicelib.core.signing import sign, verify
from chalicelib.insight import digest_recipients, reports, stats
from chalicelib.loop import casework, followups
from chalicelib.privacy import deletion
from chalicelib.queue import get_queue
from chalicelib.sending import delivery, imports, invitations, ledger
from chalicelib.store import bind, one_page
from chalicelib.store.models import Invitation, Member
from chalicelib.store.transact import ConditionFailed, update
from chalicelib.web import parse_json

PAGE_SIZE = 50
CURSOR = "cursor"
CSV_PAGE = 500
MAX_CSV_PAGE = 1000
# Lambda takes request payloads of up to 6 MB; imports (100,000 rows) are the only bodies that large.
MAX_IMPORT_BYTES = 6 * 1024 * 1024
IMPORT_TOO_LARGE = f"At most {MAX_IMPORT_BYTES // 1024 // 1024} MB per import; split the file."
# A send time this far in the past is clock skew between the caller and us, not a typo: it sends now.
PAST_GRACE_SECONDS = 60
# A send time further ahead is a typo in the year (9999), not a plan: refused.
MAX_AHEAD_DAYS = 365
# A past send time before 1970 (year 1) is refused without showing it in the zone: so far back a zone
# reads as local mean time (-10:29:20), or the date leaves the calendar.
EARLIEST_SHOWN = 0.0
_DAY = 86400
TIME_EXAMPLE = "2026-12-01T09:00:00+01:00"

# The query parameters, bodies and answers of the use cases below are declared once, beside them: the
# parsers read names and limits from these declarations, and chalicelib.admin.openapi publishes them.
PAGE_LIMIT: dict[str, Any] = {
    "name": "limit",
    "in": "query",
    "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": PAGE_SIZE},
}
PAGE_CURSOR: dict[str, Any] = {
    "name": "cursor",
    "in": "query",
    "schema": {"type": "string"},
    "description": "next_cursor of the previous page of this list, with the same filters (any other is a 400)",
}
_NEXT_CURSOR = {"type": ["string", "null"], "description": "the cursor of the next page; null on the last"}


def _envelope(optional: dict | None = None, **properties: dict) -> dict[str, Any]:
    """An object with these properties, all present, and the `optional` ones."""
    return {"type": "object", "required": list(properties), "properties": properties | (optional or {})}


CREATED_JSON = _envelope({"recipients": imports.IMPORT_JSON}, campaign=campaigns.CAMPAIGN_JSON)


def create_campaign(body: Any, now: float, caller: Caller) -> tuple[int, dict]:
    """A campaign, optionally with recipients (JSON) and `"send": true` to start at once."""
    fields = campaigns.parse_campaign(body)
    send = body.get("send", False)
    if not isinstance(send, bool):
        raise ValidationError("send is true or false.", "send")
    at = _future(parse_time(body.get("at"), "at"), body["at"], now, fields["timezone"]) if "at" in body else None
    rows = imports.parse_json(body["recipients"]) if "recipients" in body else []
    if (send or at is not None) and fields.get("kind", "one_off") == "one_off" and not rows:
        raise ValidationError(
            "A campaign with no recipients cannot be sent: give recipients, or send it later.", "recipients"
        )
    if rows:
        ratelimit.check(caller.key, "import", now)
    campaign = campaigns.create_campaign(fields, now)
    result: dict[str, Any] = {}
    if rows:
        result["recipients"] = imports.start(campaign, rows, "recipients", now, get_settings(), get_queue())
    if send or at is not None:
        campaigns.start_sending(campaign.id, now, at, get_queue())
    return 201, {"campaign": campaigns.get_view(campaign.id).to_json(reveal=True), **result}


CAMPAIGNS_JSON = _envelope(campaigns={"type": "array", "items": campaigns.CAMPAIGN_JSON}, next_cursor=_NEXT_CURSOR)


def list_campaigns(query: dict[str, str]) -> tuple[int, dict]:
    limit = _int(query, PAGE_LIMIT)
    scope = cursor_scope("campaigns")
    found, cursor = campaigns.list_campaigns(limit, _decode(query, PAGE_CURSOR, scope))
    return 200, {"campaigns": [c.to_json() for c in found], "next_cursor": _encode(cursor, scope)}


CAMPAIGN_JSON = _envelope(campaign=campaigns.CAMPAIGN_JSON)
CAMPAIGN_WITH_STATS_JSON = _envelope(
    {"status_detail": {"type": "string", "description": "when invitations failed: what to do"}},
    campaign=campaigns.CAMPAIGN_JSON,
    stats=stats.STATS_JSON,
)


def get_campaign(campaign_id: str) -> tuple[int, dict]:
    """The campaign and its stats; `status_detail` says when invitations failed and how to resend them."""
    counts = stats.campaign_stats(campaign_id)
    body = {"campaign": campaigns.get_view(campaign_id).to_json(), "stats": counts}
    if counts["failed"]:
        body["status_detail"] = (
            f"{counts['failed']} invitation(s) failed ({', '.join(sorted(counts['failed_reasons']))}): see "
            f"GET /api/campaigns/{campaign_id}/skipped, correct the options, then POST "
            f"/api/campaigns/{campaign_id}/resend-failed."
        )
    return 200, body


def update_campaign(campaign_id: str, body: Any, now: float) -> tuple[int, dict]:
    fields = campaigns.parse_campaign(body, partial=True)
    for ignored in ("recipients", "send", "at"):
        if ignored in body:
            raise ValidationError(f"{ignored} cannot be changed here; use the recipients or send endpoints.", ignored)
    return 200, {"campaign": campaigns.update_campaign(campaign_id, fields, now).to_json(reveal="options" in fields)}


IMPORT_JSON = _envelope(**{"import": imports.IMPORT_JSON})


def import_recipients(
    campaign_id: str, content_type: str, raw: bytes | None, now: float, caller: Caller
) -> tuple[int, dict]:
    """JSON `{"recipients": [...]}`, a `text/csv` body (`; header=absent`: pasted addresses, one a line or
    several on a line as a mail client's To: field copies them, no header row), or a CSV uploaded as
    multipart form data. A CSV that is Delighted's responses export, or the rows a history import rejected,
    is refused (imports.refuse_delighted_history): its people would be mailed."""
    campaign = campaigns.get_view(campaign_id)
    if campaign.status == "cancelled":
        raise ValidationError("This campaign is cancelled.", "status")
    if len(raw or b"") > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(IMPORT_TOO_LARGE, "file")
    ratelimit.check(caller.key, "import", now)
    kind = (content_type or "").split(";")[0].strip().lower()
    original = None
    if kind == "application/json":
        path = next(iter(imports.RECIPIENTS_BODY["properties"]))
        rows = imports.parse_json(_json(raw).get(path))
    elif kind == "text/csv":
        text = imports.decode_csv(raw or b"", _charset(content_type))
        header = _param(content_type, "header") != "absent"
        if header:
            imports.refuse_delighted_history(text, campaign_id)
        original = imports.parse_csv(text, header=header)
    elif kind == "multipart/form-data":
        text = _uploaded_csv(content_type, raw)
        imports.refuse_delighted_history(text, campaign_id)
        original = imports.parse_csv(text)
    else:
        raise ValidationError(
            "Send application/json, text/csv, or multipart/form-data with a CSV file.", "Content-Type"
        )
    if original is not None:
        rows, path = original.rows, "row"
    report = imports.start(campaign, rows, path, now, get_settings(), get_queue(), original)
    return (201 if report["status"] == "done" else 202), {"import": report}


def import_status(campaign_id: str, import_id: str) -> tuple[int, dict]:
    report = imports.status(import_id)
    if report["campaign_id"] != campaign_id:
        raise NotFound(f"No import {import_id!r} in this campaign.", "import_id")
    return 200, {"import": report}


REJECTED_COLUMNS = imports.REJECTED_COLUMNS


def rejected_csv(campaign_id: str, import_id: str) -> tuple[int, str, dict]:
    """An import's rejected rows as CSV, to fix and upload again: the uploaded file's columns in its
    order, each row's cells as it had them, then `row` (its number in the file) and `reason`. Cells are
    neutralised as in the responses export (a leading ' before = + - @). NotFound as import_status."""
    import_status(campaign_id, import_id)
    header, rows = imports.rejected_rows(import_id)
    width = max([len(header), *(len(r["cells"]) for r in rows)])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([reports.neutralise(c) for c in header + [""] * (width - len(header))] + list(REJECTED_COLUMNS))
    for r in rows:
        cells = r["cells"] + [""] * (width - len(r["cells"]))
        writer.writerow([reports.neutralise(c) for c in cells] + [r["row"], reports.neutralise(r["message"])])
    headers = {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="import-{import_id}-rejected.csv"',
    }
    return 200, out.getvalue(), headers


SEND_BODY: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "at": {
            "type": "string",
            "format": "date-time",
            "description": "ISO 8601 with its offset, in the future; absent: now",
            "example": "2026-12-01T09:00:00+01:00",
        }
    },
}
SENT_JSON = _envelope(
    campaign=campaigns.CAMPAIGN_JSON, status={"enum": ["scheduled", "sending"], "description": "what happened"}
)


def send_campaign(campaign_id: str, body: Any, now: float, caller: Caller) -> tuple[int, dict]:
    """Send now, or at a given time (`{"at": "2026-12-01T09:00:00+01:00"}`); a time in the past is a 400."""
    if not isinstance(body, dict) or set(body) - SEND_BODY["properties"].keys():
        raise ValidationError('Send {} to send now, or {"at": "2026-12-01T09:00:00+01:00"}.')
    ratelimit.check(caller.key, "send", now)
    campaign = campaigns.get_view(campaign_id)
    at = None
    if body.get("at") is not None:
        at = _future(parse_time(body["at"], "at"), body["at"], now, campaign.timezone)
    if campaign.status == "draft" and campaign.kind == "one_off" and not _has_recipients(campaign_id):
        raise Conflict(
            "This campaign has no recipients yet: add some on the Recipients tab "
            f"(or POST /api/campaigns/{campaign_id}/recipients).",
            "recipients",
        )
    state = campaigns.start_sending(campaign_id, now, at, get_queue())
    return 202, {"campaign": campaigns.get_view(campaign_id).to_json(), "status": state}


def _has_recipients(campaign_id: str) -> bool:
    """An invitation, or an import still writing them (the send then waits for it)."""
    return any(True for _ in Invitation.by_campaign.query(campaign_id, limit=1)) or campaigns.imports_running(
        campaign_id
    )


def change_state(campaign_id: str, action: str, now: float) -> tuple[int, dict]:
    if action == "pause":
        campaigns.pause(campaign_id, now)
    elif action == "resume":
        campaigns.resume(campaign_id, now, get_queue())
    elif action == "unschedule":
        campaigns.unschedule(campaign_id, now)
    else:
        campaigns.cancel(campaign_id, now)
    return 200, {"campaign": campaigns.get_view(campaign_id).to_json()}


PREVIEW_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["email"],
    "properties": {
        "email": {"type": "string", "format": "email"},
        "properties": {
            "type": ["object", "null"],
            "description": "names to values; absent or null: those of the invitation sent to this address, if any",
        },
        "locale": {
            "enum": [*i18n.LANGUAGES, None],
            "description": "the language to preview, one the campaign offers; absent or null: the one the "
            "contact's locale property chooses",
        },
    },
}
PREVIEW_JSON = _envelope(
    subject={"type": "string"},
    **{"from": {"type": "string"}},
    reply_to={"type": ["string", "null"]},
    text={"type": "string"},
    html={"type": "string"},
    variables={"type": "array", "items": {"type": "string"}, "description": "what templates may use"},
)


def preview(campaign_id: str, body: Any, now: float, caller: Caller) -> tuple[int, dict]:
    """The invitation as a given recipient would get it; nothing is sent or stored."""
    ratelimit.check(caller.key, "preview", now)
    campaign = campaigns.get_view(campaign_id)
    if not isinstance(body, dict):
        raise ValidationError("Send {email} and, optionally, {properties}.")
    email = contacts.email_address(body.get("email"), "email")
    props = body.get("properties")
    if props is None:
        try:
            props = invitations.properties_of(Invitation.get(invitations.invitation_id(campaign_id, email)))
        except Invitation.DoesNotExist:
            props = {}
    bad = contacts.properties_problem(props)
    if bad:
        raise ValidationError(bad[1], f"properties{bad[0]}")
    locale = _offered_locale(campaign, body.get("locale"))
    settings = get_settings()
    fake = invitations.new_invitation(campaign, contacts.Recipient(email, props), now, settings)
    try:
        message = invitations.render_invitation(campaign, fake, settings, now, token="preview", locale=locale)  # noqa: S106 - not a secret
    except mail.MessageInvalid as exc:  # options stored before they were checked: say what to correct
        raise ValidationError(f"{exc} Correct the campaign's options.", "options") from None
    return 200, {
        "subject": str(message["Subject"]),
        "from": str(message["From"]),
        "reply_to": message["Reply-To"],
        "text": message.get_body(("plain",)).get_content(),
        "html": message.get_body(("html",)).get_content(),
        "variables": sorted(personalize.variables(props, email)),
    }


def _offered_locale(campaign: campaigns.CampaignView, value: Any) -> str | None:
    """A preview's `locale`: None when absent, else one the campaign offers (ValidationError naming them)."""
    if value is None:
        return None
    offered = i18n.campaign_locales(campaign.options)[1]
    code = i18n.normalize(value)  # "fr-CA" previews what a contact with that locale gets
    if code not in offered:
        names = ", ".join(f"{code} ({translations.language_name(code)})" for code in offered)
        given = (
            f"{str(value)[:40]!r} is not a language Closeloop ships"
            if code is None
            else f"It has no {translations.language_name(code)} translation"
        )
        raise ValidationError(f"This campaign is written in {names}: preview one of these. {given}.", "locale")
    return code


STATS_JSON = _envelope(stats=stats.STATS_JSON)


def campaign_stats(campaign_id: str) -> tuple[int, dict]:
    campaigns.load_campaign(campaign_id)
    return 200, {"stats": stats.campaign_stats(campaign_id)}


SKIPPED_LIMIT = PAGE_LIMIT | {"schema": PAGE_LIMIT["schema"] | {"maximum": 500}}
SKIPPED_JSON = _envelope(
    skipped={
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "email": {"type": "string"},
                "state": {"enum": ["skipped", "failed"]},
                "reason": {"type": ["string", "null"], "example": "suppressed"},
                "invitation_id": {"type": "string"},
            },
        },
    },
    next_cursor=_NEXT_CURSOR,
)


def skipped(campaign_id: str, query: dict[str, str]) -> tuple[int, dict]:
    """Recipients who were not sent the survey, and why: skipped (`state` "skipped") or failed ("failed")."""
    campaigns.load_campaign(campaign_id)
    limit = _int(query, SKIPPED_LIMIT)
    bind()
    scope = cursor_scope("skipped", campaign_id)
    found, after = one_page(
        Invitation.skipped.query(campaign_id, limit=limit + 1, last_evaluated_key=_decode(query, PAGE_CURSOR, scope)),
        limit,
    )
    rows = [{"email": i.email, "state": i.send_state, "reason": i.send_error, "invitation_id": i.id} for i in found]
    return 200, {"skipped": rows, "next_cursor": _encode(after, scope)}


RESENT_JSON = _envelope(
    resent={"type": "integer"},
    more={"type": "boolean", "description": "others remain: call again"},
    campaign=campaigns.CAMPAIGN_JSON,
)


def resend_failed(campaign_id: str, now: float, caller: Caller) -> tuple[int, dict]:
    """The invitations that failed go back to pending and are sent again (after the options are corrected)."""
    ratelimit.check(caller.key, "send", now)
    resent, more = delivery.resend_failed(campaign_id, get_queue())
    return 202, {"resent": resent, "more": more, "campaign": campaigns.get_view(campaign_id).to_json()}


REMOVED_JSON = _envelope(
    removed={"type": "string", "description": "the address"},
    unsent_rounds_cancelled={"type": "integer"},
)


def remove_member(campaign_id: str, email: str, now: float) -> tuple[int, dict]:
    """Stop asking this contact in a recurring campaign; unsent rounds are cancelled."""
    campaign = campaigns.get_view(campaign_id)
    if campaign.kind != "recurring":
        raise ValidationError("Only recurring campaigns have members to remove.", "kind")
    address = contacts.email_address(email, "email")
    try:
        update(Member, campaign_id, [Member.removed_at.set(now)], Member.email.exists(), range_key=address)
    except ConditionFailed:
        raise NotFound(f"{address} is not a member of this campaign.", "email") from None
    cancelled = 0
    for key in Invitation.by_email.query(address):
        cancelled += invitations.skip_pending(key.id, campaign_id, "removed")
    return 200, {"removed": address, "unsent_rounds_cancelled": cancelled}


def parse_time(value: Any, field: str) -> float:
    """Epoch seconds of an ISO 8601 time with its offset; ValidationError naming `field` otherwise."""
    if not isinstance(value, str):
        raise ValidationError(f"A time is an ISO 8601 string with an offset, e.g. {TIME_EXAMPLE}.", field)
    if not value.strip():
        raise ValidationError(f"Give a date and time, e.g. {TIME_EXAMPLE}.", field)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"{value!r} is not an ISO 8601 time.", field) from None
    if moment.tzinfo is None:
        raise ValidationError("Give the time with its offset (e.g. +01:00 or Z), so it is not ambiguous.", field)
    return moment.timestamp()


def _future(at: float, given: str, now: float, timezone: str) -> float:
    """`at` when it is at most MAX_AHEAD_DAYS ahead and at most PAST_GRACE_SECONDS ago; a ValidationError on
    `at` otherwise, showing a recent past time in the campaign's zone (the words fit the API and the dashboard)."""
    if at > now + MAX_AHEAD_DAYS * _DAY:
        raise ValidationError(
            f"{given} is more than {MAX_AHEAD_DAYS} days ahead: give a time within the next {MAX_AHEAD_DAYS} days.",
            "at",
        )
    if at >= now - PAST_GRACE_SECONDS:
        return at
    if at < EARLIEST_SHOWN:
        raise ValidationError(f"{given} is in the past. Give a later time, or send now.", "at")
    zone = ZoneInfo(timezone)
    shown = datetime.fromtimestamp(at, zone).strftime("%Y-%m-%d %H:%M")
    current = datetime.fromtimestamp(now, zone).strftime("%Y-%m-%d %H:%M")
    raise ValidationError(
        f"{given} is in the past: {shown} in the campaign's time zone {timezone}, where it is now {current}. "
        "Give a later time, or send now.",
        "at",
    )


def _int(query: dict[str, str], param: dict[str, Any]) -> int:
    """The whole number `param` declares, within its minimum and maximum; its default when absent."""
    name, schema = param["name"], param["schema"]
    raw = query.get(name)
    if raw is None:
        return schema["default"]
    low, high = schema["minimum"], schema["maximum"]
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise ValidationError(f"{name} is a whole number from {low} to {high}.", name)
    return int(raw)


def cursor_scope(name: str, *shape: Any) -> str:
    """What a cursor is for: the list's name ("responses", "v1 people") and, when a campaign or filters shape
    the list, a short hash of them (canonical JSON of the parsed values, so "2026-09-01" and the same day's
    first moment as an ISO time are one list)."""
    if not shape:
        return name
    canonical = json.dumps(shape, sort_keys=True, separators=(",", ":"), default=_canonical)
    return f"{name}#{base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()[:9]).decode()}"


def _canonical(value: Any) -> Any:
    """A parsed filter as JSON: a dataclass (casework.ResponseFilter) by its fields."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} is not part of a cursor's scope")


def _encode(cursor: dict | None, scope: str) -> str | None:
    """A page's last key and the list it is a page of (cursor_scope), signed: DynamoDB is only ever given a
    key it handed out itself, for the list it handed it out for."""
    if not cursor:
        return None
    payload = base64.urlsafe_b64encode(json.dumps({"for": scope, "key": cursor}).encode()).decode()
    return f"{payload}.{sign(CURSOR, payload, get_settings().require_signing_secrets())}"


def _decode(query: dict[str, str], param: dict[str, Any], scope: str) -> dict | None:
    """The start key of a signed cursor given out for this list (`scope`); None without one (empty too);
    CursorRefused naming the parameter for any other: changed, another list's or filters', or given out
    before cursors named their list (a page link is short-lived)."""
    name = param["name"]
    raw = query.get(name)
    if not raw:
        return None
    payload, _, signature = raw.rpartition(".")
    if not signature.isascii() or not verify(CURSOR, payload, signature, get_settings().require_signing_secrets()):
        raise CursorRefused(name)
    content = json.loads(base64.urlsafe_b64decode(payload.encode()))
    if not isinstance(content, dict) or content.get("for") != scope or not isinstance(content.get("key"), dict):
        raise CursorRefused(name)
    return content["key"]


def encode_cursor(cursor: dict | None, scope: str) -> str | None:
    """A page's last key as the API's `next_cursor` (signed, for the list `scope` names, see cursor_scope;
    None on the last page), for pages that list with the API's cursors."""
    return _encode(cursor, scope)


def decode_cursor(query: dict[str, str], param: dict[str, Any], scope: str) -> dict | None:
    """The last key a signed cursor in `query[param["name"]]` holds, None without one; CursorRefused naming
    the parameter for a cursor the API did not give out for this list and filters (`scope`)."""
    return _decode(query, param, scope)


def _json(raw: bytes | None) -> dict:
    value = parse_json(raw, MAX_IMPORT_BYTES)
    if not isinstance(value, dict):
        raise ValidationError("Send a JSON object.")
    return value


def _charset(content_type: str) -> str | None:
    """The charset parameter of a Content-Type (`text/csv; charset=windows-1252`), if any."""
    message = Message()
    message["Content-Type"] = content_type
    return message.get_content_charset()


def _param(content_type: str, name: str) -> str | None:
    """A parameter of a Content-Type (`text/csv; header=absent`, RFC 4180), lower case, if any."""
    message = Message()
    message["Content-Type"] = content_type
    value = message.get_param(name)
    return value.lower() if isinstance(value, str) else None


def uploaded_text(content_type: str, raw: bytes | None) -> str:
    """The text of an uploaded file: a `text/csv` or `application/json` body decoded by its charset parameter,
    or the `file` part of multipart form data by its own, as recipient imports read them. Raises
    ValidationError naming `Content-Type` for another type, or `file` when it cannot be read."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in ("text/csv", "application/json"):
        return imports.decode_csv(raw or b"", _charset(content_type))
    if kind == "multipart/form-data":
        return _uploaded_csv(content_type, raw)
    raise ValidationError("Send text/csv, application/json, or multipart/form-data with the file.", "Content-Type")


UPLOAD_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary", "description": "the CSV file"}},
}


def _uploaded_csv(content_type: str, raw: bytes | None) -> str:
    """The `file` part's text (UPLOAD_BODY), decoded by its own charset parameter when it has one."""
    name = next(iter(UPLOAD_BODY["properties"]))
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + (raw or b"")
    )
    for part in message.iter_parts() if message.is_multipart() else []:
        if part.get_param("name", header="content-disposition") == name:
            payload = part.get_payload(decode=True) or b""
            return imports.decode_csv(payload, part.get_content_charset())
    raise ValidationError(f"Upload the CSV as a form field named `{name}`.", name)


_WHEN = (
    "a day such as 2026-09-01 (in the campaign's time zone, the whole day) or an ISO 8601 time with its offset "
    "such as 2026-09-01T09:00:00+02:00"
)


def _when(name: str, description: str) -> dict[str, Any]:
    """A query parameter _moment reads: a day or a time; left empty it means no bound, as when absent."""
    schema = {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}, {"const": ""}]}
    return {"name": name, "in": "query", "schema": schema, "description": f"{description}: {_WHEN}"}


def _enum(name: str, values: tuple[str, ...]) -> dict[str, Any]:
    """A query parameter that takes one of `values`, or empty for every value."""
    return {"name": name, "in": "query", "schema": {"enum": [*values, ""]}, "description": "empty: every value"}


RESPONSE_FILTERS: list[dict[str, Any]] = [
    _enum("category", casework.CATEGORIES),
    _enum("loop_status", casework.LOOP_STATES),
    _when("since", "answered at or after"),
    _when("until", "answered at or before"),
    followups.PROPERTY_FILTER,
    {"name": "theme", "in": "query", "schema": {"type": "string"}, "description": "one of the campaign's themes"},
    {
        "name": "q",
        "in": "query",
        "schema": {"type": "string", "maxLength": casework.MAX_SEARCH},
        "description": "a phrase of the comment, whatever its case",
    },
]
RESPONSES_JSON = _envelope(responses={"type": "array", "items": followups.RESPONSE_JSON}, next_cursor=_NEXT_CURSOR)


def _moment(raw: str | None, field: str, timezone: str, end_of_day: bool) -> float | None:
    """Epoch seconds of a day (its first moment in the campaign's time zone, or its last with `end_of_day`)
    or of an ISO 8601 time with its offset; None when empty. ValidationError naming `field` otherwise."""
    if not raw:
        return None
    if len(raw) == 10:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise ValidationError(f"{field} is {_WHEN}.", field) from None
        return datetime.combine(day, time.max if end_of_day else time.min, ZoneInfo(timezone)).timestamp()
    try:
        return parse_time(raw, field)
    except ValidationError:
        raise ValidationError(f"{field} is {_WHEN}.", field) from None


def response_filter(campaign: campaigns.CampaignView, query: dict[str, str]) -> casework.ResponseFilter:
    """The filters of a responses list or export: category, loop_status, since, until (a day in the
    campaign's time zone or an ISO time), property (plan:pro), theme and q (a phrase of the comment,
    whatever its case). An empty value does not filter; a value the campaign cannot have is a
    ValidationError naming the allowed values."""
    return casework.ResponseFilter(
        category=query.get("category") or None,
        loop_status=query.get("loop_status") or None,
        since=_moment(query.get("since"), "since", campaign.timezone, end_of_day=False),
        until=_moment(query.get("until"), "until", campaign.timezone, end_of_day=True),
        prop=followups.parse_property_filter(query.get("property")),
        theme=query.get("theme") or None,
        text=query.get("q") or None,
    ).check(campaign)


def list_responses(campaign_id: str, query: dict[str, str]) -> tuple[int, dict]:
    """A campaign's responses, newest first, filtered (see response_filter); a page may hold fewer
    than `limit` while `next_cursor` is set, when a theme or search reads past many that do not match."""
    campaign = campaigns.get_view(campaign_id)
    limit = _int(query, PAGE_LIMIT)
    wanted = response_filter(campaign, query)
    scope = cursor_scope("responses", campaign_id, wanted)
    found, cursor = casework.find_responses(campaign, wanted, _decode(query, PAGE_CURSOR, scope), limit)
    settings = get_settings()
    rows = [followups.response_json(i, campaign, settings) for i in found]
    return 200, {"responses": rows, "next_cursor": _encode(cursor, scope)}


RESPONSE_JSON = _envelope(response=followups.RESPONSE_JSON)
RESPONSE_WITH_DELIVERIES_JSON = _envelope(
    response={
        "allOf": [
            followups.RESPONSE_JSON,
            {
                "properties": {
                    "deliveries": {
                        "type": "array",
                        "description": "each alert and webhook of each version of the answer",
                        "items": {
                            "type": "object",
                            "properties": {
                                "key": {"type": "string", "example": "webhook#w1#i123.1"},
                                "state": {"type": ["string", "null"]},
                                "attempts": {"type": "integer"},
                                "last_error": {"type": ["string", "null"]},
                            },
                        },
                    }
                }
            },
        ]
    }
)


def get_response(response_id: str) -> tuple[int, dict]:
    """One response; NotFound. An id pasted from the CSV export with its formula guard (one in 64 ids
    starts with "-") is found as the id itself."""
    response_id = imports.unguard(response_id)
    bind()
    try:
        invitation = Invitation.get(response_id, consistent_read=True)
    except Invitation.DoesNotExist:
        raise NotFound(f"No response {response_id!r}.", "response_id") from None
    if invitation.answered_at is None:
        raise NotFound(f"No response {response_id!r}.", "response_id")
    campaign = campaigns.get_campaign(invitation.campaign_id)
    body = followups.response_json(invitation, campaign, get_settings())
    keys = []
    for version in range(1, int(invitation.event_version or 0) + 1):
        event_id = f"{invitation.id}.{version}"
        keys += [f"alert#{event_id}#slack"] + [
            f"alert#{event_id}#email#{a}" for a in (campaign.options.get("alert_emails") or [] if campaign else [])
        ]
        keys += [f"webhook#{w['id']}#{event_id}" for w in (campaign.options.get("webhooks") or [] if campaign else [])]
    found = {d.key: d for d in ledger.Delivery.batch_get(keys)} if keys else {}
    body["deliveries"] = [
        {"key": key, "state": d.state, "attempts": int(d.attempts or 0), "last_error": d.last_error}
        for key, d in sorted(found.items())
    ]
    return 200, {"response": body}


def set_loop(response_id: str, body: Any, caller: Caller, now: float) -> tuple[int, dict]:
    invitation = followups.set_loop_status(imports.unguard(response_id), body, caller.name, now)
    campaign = campaigns.get_campaign(invitation.campaign_id)
    return 200, {"response": followups.response_json(invitation, campaign, get_settings())}


LOOP_JSON = _envelope(loop=followups.LOOP_REPORT_JSON)


def loop_report(campaign_id: str, now: float) -> tuple[int, dict]:
    """Time to acknowledge, to contact and to close, and the cases past their target."""
    campaigns.get_view(campaign_id)
    bind()
    overdue = Invitation.open_cases.count(campaign_id, Invitation.case_due_at <= now)
    return 200, {"loop": followups.loop_report(stats.totals(campaign_id), overdue)}


DIGEST_RECIPIENTS_JSON = _envelope(recipients={"type": "array", "items": digest_recipients.RECIPIENT_JSON})


def list_digest_recipients(campaign_id: str) -> tuple[int, dict]:
    campaigns.load_campaign(campaign_id)
    return 200, {"recipients": [digest_recipients.to_json(s) for s in digest_recipients.subscriptions(campaign_id)]}


def set_digest_recipients(campaign_id: str, body: Any, now: float) -> tuple[int, dict]:
    """The digest's recipients become exactly this list (a recipient's own stop is kept)."""
    return 200, {"recipients": digest_recipients.set_recipients(campaign_id, body, now)}


SUPPRESSIONS_JSON = _envelope(suppressions={"type": "array", "items": suppression.ENTRY_JSON}, next_cursor=_NEXT_CURSOR)
SUPPRESSION_JSON = _envelope(suppression=suppression.ENTRY_JSON)
SUPPRESSION_ADDED_JSON = _envelope(
    suppression=suppression.ENTRY_JSON,
    added={"type": "boolean", "description": "false: it was suppressed already and keeps its first reason"},
)


def search_suppressions(query: dict[str, str]) -> tuple[int, dict]:
    """Suppressed addresses (every campaign's) starting with email_prefix, in address order, paged."""
    prefix = suppression.parse_prefix(query)
    limit = _int(query, PAGE_LIMIT)
    scope = cursor_scope("suppression", prefix)
    found, cursor = suppression.search(prefix, limit, _decode(query, PAGE_CURSOR, scope))
    return 200, {"suppressions": [entry.to_json() for entry in found], "next_cursor": _encode(cursor, scope)}


def get_suppression(email: str) -> tuple[int, dict]:
    """Why this address is suppressed; 404 when it is not."""
    address = contacts.email_address(email, "email")
    entry = suppression.find(address)
    if entry is None:
        raise NotFound(f"{address} is not suppressed.", "email")
    return 200, {"suppression": entry.to_json()}


DELETION_JSON = _envelope(deletion=deletion.REPORT_JSON)


def delete_person(email: str, caller: Caller, now: float) -> tuple[int, dict]:
    """Delete the person and everything about them (chalicelib.privacy.deletion); their address stays only as a
    suppressed hash. 404 when nothing was known about it (its hash is suppressed anyway), 409 for the
    dashboard's last admin."""
    return 200, {"deletion": deletion.delete_person(email, actor=caller.name, now=now).to_json()}


def add_suppression(body: Any, now: float, caller: Caller) -> tuple[int, dict]:
    """Suppress an address for every campaign: 201, or 200 with `added` false when it already was."""
    entry, added = suppression.add(body, now, caller.name)
    return (201 if added else 200), {"suppression": entry.to_json(), "added": added}


METRICS_QUERY: list[dict[str, Any]] = [
    reports.day_parameter("since", "first day (default: the day the campaign was created)"),
    reports.day_parameter("until", "last day, included (default: today)"),
    reports.SEGMENT,
]


def metrics(campaign_id: str, query: dict[str, str], now: float) -> tuple[int, dict]:
    """NPS, CSAT, CES with intervals and rates for a segment, all time or from `since` to `until`."""
    model = campaigns.load_campaign(campaign_id)
    campaign = campaigns.view(model)
    since_param, until_param, _ = METRICS_QUERY
    segment = reports.parse_segment(campaign, query)
    since = reports.parse_day(query.get(since_param["name"]), since_param["name"])
    until = reports.parse_day(query.get(until_param["name"]), until_param["name"])
    return 200, reports.metrics_for(campaign, model.created_at, segment, since, until, now)


TREND_QUERY: list[dict[str, Any]] = [
    {
        "name": "weeks",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": reports.MAX_WEEKS, "default": 12},
    },
    reports.day_parameter("until", "a day of the last week shown (default: today)"),
    reports.SEGMENT,
]


def trend(campaign_id: str, query: dict[str, str], now: float) -> tuple[int, dict]:
    campaign = campaigns.get_view(campaign_id)
    weeks_param, until_param, _ = TREND_QUERY
    segment = reports.parse_segment(campaign, query)
    weeks = _int(query, weeks_param)
    until = reports.parse_day(query.get(until_param["name"]), until_param["name"])
    return 200, reports.trend_for(campaign, segment, weeks, until, now)


CSV_LIMIT = PAGE_LIMIT | {"schema": {"type": "integer", "minimum": 1, "maximum": MAX_CSV_PAGE, "default": CSV_PAGE}}
CSV_CURSOR = PAGE_CURSOR | {"description": "from the Link header of the previous page, with the same filters"}


def responses_csv(
    campaign_id: str, query: dict[str, str], link: tuple[str, dict[str, str]] | None = None
) -> tuple[int, str, dict]:
    """One page of responses as CSV, filtered as list_responses is; a `Link: <...>; rel="next"` header
    names the next page: `link` is (the URL, the query it keeps), by default this API's CSV URL and the
    same filters; limit and cursor are added."""
    campaign = campaigns.get_view(campaign_id)
    limit = _int(query, CSV_LIMIT)
    wanted = response_filter(campaign, query)
    scope = cursor_scope("responses.csv", campaign_id, wanted)
    text, cursor = reports.export_page(campaign, _decode(query, CSV_CURSOR, scope), limit, wanted)
    headers = {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{campaign_id}-responses.csv"',
    }
    if cursor:
        url, kept = link or (f"{get_settings().base_url}/api/campaigns/{campaign_id}/responses.csv", query)
        following = {k: v for k, v in kept.items() if k not in ("limit", "cursor") and v}
        following |= {"limit": str(limit), "cursor": _encode(cursor, scope) or ""}
        headers["Link"] = f'<{url}?{urlencode(following)}>; rel="next"'
    return 200, text, headers


HELD_LIST_JSON = _envelope(held={"type": "array", "items": held.HELD_JSON}, next_cursor=_NEXT_CURSOR)
HELD_DECISION_JSON = _envelope(decision={"enum": [held.ACCEPTED, held.DISMISSED]}, held=held.HELD_JSON)


def list_held(campaign_id: str, query: dict[str, str]) -> tuple[int, dict]:
    """Scanner activity kept out of the scores and waiting for a decision, newest first (docs/scanners.md)."""
    campaigns.get_view(campaign_id)
    limit = _int(query, PAGE_LIMIT)
    scope = cursor_scope("held", campaign_id)
    found, cursor = held.list_held(campaign_id, limit, _decode(query, PAGE_CURSOR, scope))
    return 200, {"held": [entry.to_json() for entry in found], "next_cursor": _encode(cursor, scope)}


def decide_held(invitation_id: str, decision: str, caller: Caller, now: float) -> tuple[int, dict]:
    """Accept held activity as the person's answer (counted once) or dismiss it; 409 when already decided."""
    if decision == "accept":
        entry = held.accept(invitation_id, caller.name, now, get_settings())
    else:
        entry = held.dismiss(invitation_id, caller.name, now)
    return 200, {"decision": held.ACCEPTED if decision == "accept" else held.DISMISSED, "held": entry.to_json()}
