"""Who receives a campaign's digest and how often, and the page where each recipient chooses.

An admin sets the list (`PUT /api/campaigns/{id}/digest-recipients`); every recipient gets
weekly digests unless they choose daily, monthly or stop, through the signed link in each
digest. The link names campaign and address and is HMAC-signed (chalicelib.core.signing), so it
needs no login; a GET only shows the choice (scanners open every link), a form POST changes
it (the signed link plus a CSRF token), and the RFC 8058 one-click POST stops the digest.
A recipient who stopped stays stopped when an admin sends the list again, with or without them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from chalicelib.answers.survey_pages import not_found, one_click
from chalicelib.campaigns import campaigns
from chalicelib.campaigns.contacts import email_address
from chalicelib.core.config import get_settings, team_locale
from chalicelib.core.errors import ValidationError
from chalicelib.core.i18n import Text
from chalicelib.core.signing import check_csrf, csrf_token, sign, verify
from chalicelib.store import bind
from chalicelib.store.models import DigestSubscription
from chalicelib.store.transact import ConditionFailed, update
from chalicelib.web import Reply, html, parse_form, under_base
from chalicelib.web.render import render

FREQUENCIES = ("weekly", "daily", "monthly")
STOPPED = "stopped"
CHOICES = (*FREQUENCIES, STOPPED)
DEFAULT_FREQUENCY = "weekly"
MAX_RECIPIENTS = 50
CSRF_MAX_AGE = 7 * 86400
PURPOSE = "digest"
# The preferences page speaks the team's language (config.team_locale): core.i18n.Text.
LABELS = {
    "weekly": Text("Weekly, on Monday morning"),
    "daily": Text("Daily, every morning"),
    "monthly": Text("Monthly, on the first of the month"),
    STOPPED: Text("Stop: no more digests"),
}
SAVED = {
    "weekly": Text("Saved: weekly, on Monday morning."),
    "daily": Text("Saved: daily, every morning."),
    "monthly": Text("Saved: monthly, on the first of the month."),
    STOPPED: Text("Saved: you will get no more digests."),
}
NOT_LISTED = Text("You are not on this digest's list.")


# --- The list, as the admin API manages it ------------------------------------------------------


# What to_json returns, declared once for chalicelib.admin.openapi.
RECIPIENT_JSON: dict[str, Any] = {
    "type": "object",
    "required": ["email", "frequency"],
    "properties": {
        "email": {"type": "string", "format": "email"},
        "frequency": {"enum": list(CHOICES)},
        "stopped_by": {
            "enum": ["recipient", "admin", None],
            "description": "`recipient` when they stopped it through the link in a digest: kept by later PUTs",
        },
        "changed_by": {
            "enum": ["recipient", "admin", None],
            "description": "who set the frequency last: an admin, or the recipient through the link in a digest",
        },
        "created_at": {"type": ["number", "null"], "description": "epoch seconds"},
        "updated_at": {"type": ["number", "null"], "description": "epoch seconds"},
    },
}
# The body of PUT /api/campaigns/{id}/digest-recipients, declared once: parse_recipients reads its limit
# and frequencies from it, and chalicelib.admin.openapi publishes it.
RECIPIENTS_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["recipients"],
    "properties": {
        "recipients": {
            "type": "array",
            "maxItems": MAX_RECIPIENTS,
            "items": {
                "oneOf": [
                    {"type": "string", "format": "email"},
                    {
                        "type": "object",
                        "required": ["email"],
                        "properties": {
                            "email": {"type": "string", "format": "email"},
                            "frequency": {
                                "enum": [*CHOICES, None],
                                "description": "null or absent: as it is (weekly if new)",
                            },
                        },
                    },
                ]
            },
        }
    },
}


def to_json(subscription: DigestSubscription) -> dict:
    return {
        "email": subscription.email,
        "frequency": subscription.frequency,
        "stopped_by": subscription.stopped_by,
        "changed_by": subscription.changed_by,
        "created_at": subscription.created_at,
        "updated_at": subscription.updated_at,
    }


def subscriptions(campaign_id: str) -> list[DigestSubscription]:
    """A campaign's digest recipients (one Query: they share the campaign's partition)."""
    bind()
    return list(DigestSubscription.query(campaign_id, consistent_read=True))


def parse_recipients(body: Any) -> dict[str, str | None]:
    """{email: frequency or None (keep as it is)} from `{"recipients": ["a@x", {"email", "frequency"}]}`."""
    declared = RECIPIENTS_BODY["properties"]["recipients"]
    limit, choices = declared["maxItems"], declared["items"]["oneOf"][1]["properties"]["frequency"]["enum"]
    items = body.get("recipients") if isinstance(body, Mapping) else None
    if not isinstance(items, list) or len(items) > limit:
        raise ValidationError(
            f'Send {{"recipients": [...]}}: up to {limit} addresses or {{email, frequency}} objects.',
            "recipients",
        )
    wanted: dict[str, str | None] = {}
    for i, item in enumerate(items):
        raw, frequency = (item.get("email"), item.get("frequency")) if isinstance(item, Mapping) else (item, None)
        email = email_address(raw, f"recipients[{i}].email")
        if frequency not in choices:
            raise ValidationError(
                f"frequency is one of {', '.join(c for c in choices if c)}.", f"recipients[{i}].frequency"
            )
        wanted[email] = frequency
    return wanted


def set_recipients(campaign_id: str, body: Any, now: float) -> list[dict]:
    """The list becomes these addresses. New ones get weekly digests unless a frequency is given; a
    frequency given changes it; one left out keeps it. A recipient who stopped the digest through
    its link stays stopped, and stays listed as stopped when left out, so re-adding them later
    cannot restart what they asked to stop."""
    campaigns.load_campaign(campaign_id)
    wanted = parse_recipients(body)
    current = {s.email: s for s in subscriptions(campaign_id)}
    for email, subscription in current.items():
        if email not in wanted and subscription.stopped_by != "recipient":
            subscription.delete()
    for email, frequency in wanted.items():
        existing = current.get(email)
        if existing is None:
            DigestSubscription(
                campaign_id,
                email,
                frequency=frequency or DEFAULT_FREQUENCY,
                stopped_by="admin" if frequency == STOPPED else None,
                changed_by="admin",
                created_at=now,
                updated_at=now,
            ).save()
        elif frequency and frequency != existing.frequency and existing.stopped_by != "recipient":
            _choose(campaign_id, email, frequency, "admin", now)
    return [to_json(s) for s in subscriptions(campaign_id)]


def _choose(campaign_id: str, email: str, frequency: str, by: str, now: float) -> bool:
    """Set the frequency of an existing recipient; False when they are no longer on the list."""
    stopped_by = [DigestSubscription.stopped_by.set(by)] if frequency == STOPPED else []
    try:
        update(
            DigestSubscription,
            campaign_id,
            [
                DigestSubscription.frequency.set(frequency),
                DigestSubscription.changed_by.set(by),
                DigestSubscription.updated_at.set(now),
                *(stopped_by or [DigestSubscription.stopped_by.remove()]),
            ],
            DigestSubscription.email.exists(),
            range_key=email,
        )
    except ConditionFailed:
        return False
    return True


# --- The signed link in every digest ------------------------------------------------------------


def token(campaign_id: str, email: str) -> str:
    """`<campaign>.<base64url address>.<MAC>`: no expiry, so last year's digest can still stop this one."""
    encoded = base64.urlsafe_b64encode(email.encode()).rstrip(b"=").decode()
    payload = f"{campaign_id}.{encoded}"
    return f"{payload}.{sign(PURPOSE, payload, get_settings().require_signing_secrets())}"


def read_token(raw: str) -> tuple[str, str] | None:
    """(campaign id, address) of a genuine token; None when malformed or forged."""
    parts = raw.split(".")
    if len(parts) != 3 or not all(parts):
        return None
    campaign_id, encoded, signature = parts
    if not verify(PURPOSE, f"{campaign_id}.{encoded}", signature, get_settings().require_signing_secrets()):
        return None
    try:
        return campaign_id, base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


def link(campaign_id: str, email: str) -> str:
    return f"{get_settings().base_url}/digest/{token(campaign_id, email)}"


# --- The preferences page -----------------------------------------------------------------------


def _find(campaign_id: str, email: str) -> DigestSubscription | None:
    bind()
    try:
        return DigestSubscription.get(campaign_id, email, consistent_read=True)
    except DigestSubscription.DoesNotExist:
        return None


def _page(raw_token: str, campaign_id: str, email: str, now: float, notice: str | None, status: int = 200) -> Reply:
    settings = get_settings()
    subscription = _find(campaign_id, email)
    campaign = campaigns.get_campaign(campaign_id)
    body = render(
        "digest_preferences.html",
        team_locale(campaign.options if campaign else None),
        action=under_base(settings.base_url, f"/digest/{raw_token}"),
        csrf=csrf_token(f"{PURPOSE}.{campaign_id}.{email}", now, settings.require_signing_secrets()),
        campaign_name=campaign.name if campaign else "",
        email=email,
        current=subscription.frequency if subscription else None,
        choices=list(LABELS.items()),
        notice=notice,
    )
    return html(body, status=status)


def show(raw_token: str, now: float) -> Reply:
    """A GET only shows the choice: scanners open links, and must change nothing."""
    found = read_token(raw_token)
    if found is None:
        return not_found()
    return _page(raw_token, *found, now, None)


def change(raw_token: str, raw: bytes | str | None, content_type: str, now: float) -> Reply:
    """The RFC 8058 one-click POST stops the digest (no cookie or CSRF token, as the RFC requires);
    the page's form changes the frequency, with its CSRF token."""
    found = read_token(raw_token)
    if found is None:
        return not_found()
    campaign_id, email = found
    if one_click(raw, content_type):
        if not _choose(campaign_id, email, STOPPED, "recipient", now):
            return _page(raw_token, campaign_id, email, now, NOT_LISTED, 404)
        return _page(raw_token, campaign_id, email, now, Text("Done: you will get no more digests."))
    form = parse_form(raw) or {}
    frequency = (form.get("frequency") or [""])[0]
    secret = get_settings().require_signing_secrets()
    if not check_csrf((form.get("csrf") or [""])[0], f"{PURPOSE}.{campaign_id}.{email}", now, secret, CSRF_MAX_AGE):
        return _page(raw_token, campaign_id, email, now, Text("This page had expired: please choose again."), 403)
    if frequency not in CHOICES:
        return _page(raw_token, campaign_id, email, now, Text("Please choose how often."), 400)
    if not _choose(campaign_id, email, frequency, "recipient", now):
        return _page(raw_token, campaign_id, email, now, NOT_LISTED, 404)
    return _page(raw_token, campaign_id, email, now, SAVED[frequency])
