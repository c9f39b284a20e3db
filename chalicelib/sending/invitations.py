"""Invitations: one per recipient per campaign and round, and the email that carries them.

An invitation id is derived from campaign, address and round, so importing the same
recipient twice cannot create two invitations (a conditional put). The link a person
receives is an HMAC-signed token (chalicelib.core.signing) naming the invitation: the id alone
grants nothing. Sending lives in chalicelib.sending.delivery.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from urllib.parse import quote

from chalicelib import mail
from chalicelib.campaigns.campaigns import CampaignView
from chalicelib.campaigns.contacts import Recipient
from chalicelib.core import counters, i18n, personalize
from chalicelib.core.config import Settings
from chalicelib.core.signing import InvitationRef, invitation_token, unsubscribe_token
from chalicelib.store import bind, count_pending
from chalicelib.store.models import Invitation
from chalicelib.store.transact import ConditionFailed, put_new, update
from chalicelib.web.render import render

DAY = 86400
SEND_PK = "send"
REMIND_PK = "remind"


def invitation_id(campaign_id: str, email: str, round_: int = 0) -> str:
    digest = hashlib.sha256(f"{campaign_id}|{email}|{round_}".encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_invitation(
    campaign: CampaignView,
    recipient: Recipient,
    now: float,
    settings: Settings,
    round_: int = 0,
    due_at: float | None = None,
    import_id: str | None = None,
) -> Invitation:
    ident = invitation_id(campaign.id, recipient.email, round_)
    return Invitation(
        ident,
        campaign_id=campaign.id,
        email=recipient.email,
        properties=recipient.properties,
        answers={},  # there from the start, so every answer sets its questions as paths in one write
        created_at=now,
        expires_at=int(now + settings.invitation_ttl_days * DAY),
        round=round_,
        import_id=import_id,
        send_pk=SEND_PK if due_at is not None else None,
        send_due_at=due_at,
        rev=1,
        count_pk=count_pending.shard(ident),
    )


def create(invitation: Invitation) -> str:
    """'created', 'mine' (created earlier by the same import: a redelivered chunk) or 'existing'."""
    existing = put_new(invitation)
    if existing is None:
        return "created"
    if invitation.import_id and existing.get("import_id", {}).get("S") == invitation.import_id:
        return "mine"
    return "existing"


def properties_of(invitation: Invitation) -> dict:
    return counters.plain(invitation.properties)


def token_for(invitation: Invitation, settings: Settings) -> str:
    ref = InvitationRef(invitation.campaign_id, invitation.id, int(invitation.expires_at))
    return invitation_token(ref, settings.require_signing_secrets())


def unsubscribe_url(invitation: Invitation, sent_at: float, settings: Settings) -> str:
    """The /u/ link of a message sent at `sent_at` (epoch seconds); it outlives the survey link."""
    token = unsubscribe_token(invitation.campaign_id, invitation.id, sent_at, settings.require_signing_secrets())
    return f"{settings.base_url}/u/{token}"


@dataclass(frozen=True)
class Links:
    page: str
    trap: str
    unsubscribe: str
    answers: list[tuple[str, str]]


def links(campaign: CampaignView, token: str, unsubscribe: str, settings: Settings, locale: str = "") -> Links:
    """The message's links; each one-click answer as (the text shown, its link to the stored value). In a
    campaign offering several languages, the survey page's links say which (`l=`), the default one too, so
    the page is in the email's language without reading the invitation."""
    page = f"{settings.base_url}/s/{token}"
    question = campaign.survey.first
    several = len(i18n.campaign_locales(campaign.options)[1]) > 1
    language = f"l={quote(locale)}" if locale and several else ""
    return Links(
        page=f"{page}?{language}" if language else page,
        trap=f"{page}/t",
        unsubscribe=unsubscribe,
        answers=[
            (question.display(v), f"{page}?a={quote(v)}" + (f"&{language}" if language else ""))
            for v in question.one_click_values()
        ],
    )


def unsubscribe_headers(unsubscribe_url: str) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe, which Gmail and Yahoo require of bulk senders."""
    return {"List-Unsubscribe": f"<{unsubscribe_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def sender_for(campaign: CampaignView, settings: Settings) -> str:
    """From: the campaign's sender name, else its company (the name the customer knows), else ours."""
    name, address = parseaddr(settings.sender)
    return formataddr((campaign.options.get("sender_name") or campaign.company or name, address))


def render_invitation(
    campaign: CampaignView,
    invitation: Invitation,
    settings: Settings,
    sent_at: float,
    reminder: int = 0,
    token: str | None = None,
    locale: str | None = None,
) -> EmailMessage:
    """The invitation (or its `reminder`-th reminder) for one recipient, personalised with their properties,
    in their language (their `locale` property, if the campaign offers it; a preview may name another).

    `sent_at` (epoch seconds) starts the unsubscribe link's lifetime; a preview passes a
    placeholder `token` that stands for every link.

    Raises personalize.TemplateRefused (a template fails for this contact) or mail.MessageInvalid (a header
    cannot carry its value): this message alone cannot be built.
    """
    if token:
        unsubscribe = f"{settings.base_url}/u/{token}"
    else:
        token, unsubscribe = token_for(invitation, settings), unsubscribe_url(invitation, sent_at, settings)
    props = properties_of(invitation)
    locale = locale or campaign.locale_for(props)
    campaign = campaign.in_language(locale)
    subject = personalize.render_text(
        i18n.translate(campaign.subject, locale), props, invitation.email, "options.subject"
    )
    if reminder:
        subject = i18n.translate(i18n.Text("Reminder: %(subject)s", subject=subject), locale)
    intro = i18n.translate(campaign.intro, locale)
    context = {
        "campaign": campaign,
        "subject": subject,
        "question": campaign.survey.first,
        "links": links(campaign, token, unsubscribe, settings, locale),
        "intro_text": personalize.render_text(intro, props, invitation.email, "options.intro"),
        "intro_html": personalize.render_html(intro, props, invitation.email, "options.intro"),
        "reminder": reminder,
        "preheader": campaign.survey.first.text,
        "brand": campaign.options.get("brand_color") or "#1a56db",
        "logo": campaign.options.get("logo_url"),
    }
    return mail.build_message(
        sender=sender_for(campaign, settings),
        to=invitation.email,
        subject=subject,
        text=render("email/invitation.txt", locale, **context),
        html=render("email/invitation.html", locale, **context),
        reply_to=campaign.options.get("reply_to"),
        headers={**unsubscribe_headers(context["links"].unsubscribe), **i18n.language_header(locale)},
    )


def campaign_invitation_ids(campaign_id: str, cursor: dict | None, limit: int) -> tuple[list[str], dict | None]:
    """One page of a campaign's invitation ids (keys-only index) and the cursor of the next page."""
    bind()
    page = Invitation.by_campaign.query(campaign_id, limit=limit, last_evaluated_key=cursor)
    ids = [item.id for item in page]
    return ids, page.last_evaluated_key


def property_names(campaign_id: str, sample: int = 25) -> list[str]:
    """The property names the first `sample` invitations of a campaign carry (one Query, one BatchGetItem),
    sorted: what its templates can expect, as the builder's email step lists them."""
    ids, _ = campaign_invitation_ids(campaign_id, None, sample)
    names: set[str] = set()
    for invitation in Invitation.batch_get(ids, attributes_to_get=["id", "properties"]) if ids else []:
        names.update(properties_of(invitation))
    return sorted(names)


def skip_pending(invitation_id: str, campaign_id: str, reason: str) -> bool:
    """Skip the invitation if it is still waiting to be sent in `campaign_id` (listed with the skipped,
    `reason` its send error, counted as the send path counts a skip); False when it was not pending
    there (claimed by a send meanwhile, sent, skipped or another campaign's)."""
    try:
        update(
            Invitation,
            invitation_id,
            [
                Invitation.send_state.set("skipped"),
                Invitation.send_error.set(reason),
                Invitation.send_pk.remove(),
                Invitation.send_due_at.remove(),
                Invitation.skipped_campaign.set(campaign_id),
                *count_pending.changed(invitation_id),
            ],
            (Invitation.campaign_id == campaign_id) & (Invitation.send_state == "pending"),
        )
    except ConditionFailed:
        return False
    return True
