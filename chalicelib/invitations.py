"""Invitations: one per recipient per campaign, sent at most once per claim.

An invitation id is derived from campaign, address and round, so importing the same
recipient twice cannot create two invitations. The link a person receives is an HMAC-signed
token (chalicelib.signing) naming the invitation: the id alone grants nothing.

Sending claims the invitation with a lease (a conditional update), sends, then marks it sent
together with the `sent` counters in one transaction. A crash between claim and mark leaves
the lease to expire and the invitation to be sent by a later run: nothing is lost, and the
window for a duplicate is the few milliseconds between SES accepting and the mark.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter as Tally
from dataclasses import dataclass
from email.message import EmailMessage

from pynamodb.exceptions import PutError, UpdateError

from chalicelib import counters, mail
from chalicelib.campaigns import CampaignView, get_campaign
from chalicelib.config import Settings
from chalicelib.contacts import Recipient, email_hash
from chalicelib.render import render
from chalicelib.signing import InvitationRef, invitation_token
from chalicelib.store import bind
from chalicelib.store.counts import add_op, put_labels
from chalicelib.store.models import Invitation, Suppression
from chalicelib.store.transact import update_op, write

SEND_PK = "send"
SEND_LEASE_SECONDS = 300
MAX_SEND_ATTEMPTS = 8
DAY = 86400


def invitation_id(campaign_id: str, email: str, round_: int = 0) -> str:
    digest = hashlib.sha256(f"{campaign_id}|{email}|{round_}".encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def create_invitations(
    campaign: CampaignView, recipients: list[Recipient], now: float, settings: Settings, due: bool = True
) -> tuple[list[str], int]:
    """Invitations for new recipients (ids returned); recipients already invited are counted, untouched."""
    bind(settings)
    created, existing = [], 0
    labels: dict[str, str] = {}
    for recipient in recipients:
        labels.update(counters.segment_labels(recipient.properties, campaign.segments))
        invitation = Invitation(
            invitation_id(campaign.id, recipient.email),
            campaign_id=campaign.id,
            email=recipient.email,
            properties=recipient.properties,
            created_at=now,
            expires_at=int(now + settings.invitation_ttl_days * DAY),
            send_pk=SEND_PK if due else None,
            send_due_at=now if due else None,
        )
        try:
            invitation.save(condition=Invitation.id.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            existing += 1
            continue
        created.append(invitation.id)
    put_labels(campaign.id, labels)
    return created, existing


def properties_of(invitation: Invitation) -> dict:
    props = invitation.properties
    return props.as_dict() if hasattr(props, "as_dict") else dict(props or {})


def token_for(campaign: CampaignView, invitation: Invitation, settings: Settings) -> str:
    codes = counters.segment_codes(properties_of(invitation), campaign.segments)
    ref = InvitationRef(invitation.campaign_id, invitation.id, int(invitation.expires_at), codes)
    return invitation_token(ref, settings.require_signing_secrets())


@dataclass(frozen=True)
class Links:
    page: str
    trap: str
    answers: list[tuple[str, str]]


def links(campaign: CampaignView, token: str, settings: Settings) -> Links:
    from urllib.parse import quote

    page = f"{settings.base_url}/s/{token}"
    values = campaign.survey.first.one_click_values()
    return Links(page=page, trap=f"{page}/t", answers=[(v, f"{page}?a={quote(v)}") for v in values])


def render_invitation(campaign: CampaignView, invitation: Invitation, settings: Settings) -> EmailMessage:
    token = token_for(campaign, invitation, settings)
    context = {
        "campaign": campaign,
        "question": campaign.survey.first,
        "links": links(campaign, token, settings),
        "properties": properties_of(invitation),
    }
    return mail.build_message(
        sender=settings.sender,
        to=invitation.email,
        subject=campaign.subject,
        text=render("email/invitation.txt", **context),
        html=render("email/invitation.html", **context),
        reply_to=campaign.options.get("reply_to"),
    )


def send_invitation(invitation_id: str, now: float, settings: Settings) -> str:
    """Claim, send, mark. Returns sent, skipped, failed, retry, or busy (claimed elsewhere or done)."""
    bind(settings)
    invitation = Invitation(invitation_id)
    try:
        invitation.update(
            actions=[
                Invitation.send_state.set("sending"),
                Invitation.send_lease_until.set(now + SEND_LEASE_SECONDS),
                Invitation.send_attempts.add(1),
            ],
            condition=Invitation.id.exists()
            & (
                (Invitation.send_state == "pending")
                | ((Invitation.send_state == "sending") & (Invitation.send_lease_until < now))
            ),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return "busy"
        raise
    campaign = get_campaign(invitation.campaign_id)
    if campaign is None:
        return _finish(invitation, "failed", "campaign deleted")
    if Suppression.count(email_hash(invitation.email)):
        return _finish(invitation, "skipped", "suppressed")
    try:
        message_id = mail.get_mailer(settings).send(render_invitation(campaign, invitation, settings))
    except mail.MailRejected as exc:
        return _finish(invitation, "failed", str(exc))
    except mail.MailError as exc:
        if invitation.send_attempts >= MAX_SEND_ATTEMPTS:
            return _finish(invitation, "failed", f"gave up after {invitation.send_attempts} attempts: {exc}")
        invitation.update(
            actions=[
                Invitation.send_state.set("pending"),
                Invitation.send_due_at.set(now + min(3600, 30 * 2**invitation.send_attempts)),
                Invitation.send_error.set(str(exc)[:500]),
                Invitation.send_lease_until.remove(),
            ]
        )
        return "retry"
    _mark_sent(campaign, invitation, message_id, now)
    return "sent"


def _mark_sent(campaign: CampaignView, invitation: Invitation, message_id: str, now: float) -> None:
    codes = counters.segment_codes(properties_of(invitation), campaign.segments)
    keys = counters.counter_keys(counters.week_period(now, campaign.timezone), campaign.segments, codes)
    write(
        [
            update_op(
                Invitation,
                invitation.id,
                [
                    Invitation.send_state.set("sent"),
                    Invitation.sent_at.set(now),
                    Invitation.message_id.set(message_id),
                    Invitation.send_pk.remove(),
                    Invitation.send_due_at.remove(),
                    Invitation.send_lease_until.remove(),
                    Invitation.send_error.remove(),
                ],
            ),
            *(add_op(campaign.id, key, {"sent": 1}) for key in keys),
        ]
    )


def _finish(invitation: Invitation, state: str, reason: str) -> str:
    invitation.update(
        actions=[
            Invitation.send_state.set(state),
            Invitation.send_error.set(reason[:500]),
            Invitation.send_pk.remove(),
            Invitation.send_due_at.remove(),
            Invitation.send_lease_until.remove(),
        ]
    )
    return state


def send_due(now: float, settings: Settings, limit: int = 500) -> Tally:
    """Send what is due now, oldest first: a Query on the sparse send-due index, never a Scan."""
    bind(settings)
    outcomes: Tally = Tally()
    for key in Invitation.send_due.query(SEND_PK, Invitation.send_due_at <= now, limit=limit):
        outcomes[send_invitation(key.id, now, settings)] += 1
    return outcomes


def schedule_all(campaign_id: str, now: float) -> int:
    """Make the campaign's unsent invitations due now; returns how many became due."""
    bind()
    due = 0
    for key in Invitation.by_campaign.query(campaign_id):
        try:
            Invitation(key.id).update(
                actions=[Invitation.send_pk.set(SEND_PK), Invitation.send_due_at.set(now)],
                condition=(Invitation.send_state == "pending") & Invitation.send_pk.does_not_exist(),
            )
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            continue
        due += 1
    return due
