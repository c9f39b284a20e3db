"""Who needs a personal call: the alert a CX team gets by email and in Slack.

An answer matching any of its campaign's rules (chalicelib.core.alert_rules) is alerted
once, and opens a case with a target time to first personal contact.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib import mail
from chalicelib.campaigns.campaigns import get_campaign
from chalicelib.core import i18n
from chalicelib.core.config import team_locale
from chalicelib.core.counters import plain
from chalicelib.core.i18n import Text
from chalicelib.core.themes import detect
from chalicelib.loop import webhooks
from chalicelib.loop.followups import excerpt, response_page
from chalicelib.sending import ledger
from chalicelib.store.models import Invitation
from chalicelib.web import outbound
from chalicelib.web.render import render


def slack_escape(text: str) -> str:
    """Slack's mrkdwn treats & < > as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(summary: Mapping[str, Any]) -> dict:
    """A Slack-compatible incoming-webhook payload (also understood by Mattermost and Rocket.Chat)."""
    lines = [
        f"*{slack_escape(summary['headline'])}*",
        f"*Customer:* {slack_escape(summary['email'])}   *Score:* {slack_escape(summary['score_text'])}",
    ]
    if summary.get("comment"):
        lines.append("> " + slack_escape(summary["comment"]).replace("\n", "\n> "))
    if summary.get("properties"):
        lines.append(" · ".join(f"{slack_escape(str(k))}: {slack_escape(str(v))}" for k, v in summary["labelled"]))
    lines.append(f"<{summary['link']}|Open the response>")
    text = "\n".join(lines)
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


def property_label(name: str) -> str:
    """A contact property's key as people read it: `first_name` -> "First name"."""
    words = name.replace("_", " ").replace("-", " ").split()
    return " ".join(words).capitalize() if words else name


HEADLINES = {
    "promoter": Text("Promoter: %(score)s from %(email)s"),
    "passive": Text("Passive: %(score)s from %(email)s"),
    "detractor": Text("Detractor: %(score)s from %(email)s"),
}
NEW_ANSWER = Text("New answer from %(email)s")


def out_of(value: Any, question: Any, locale: str = i18n.DEFAULT_LOCALE) -> str:
    """A scale answer with its scale ("2 out of 10"); any other answer as given, lists joined."""
    if question is not None and question.is_scale and isinstance(value, int | float):
        return i18n.translate(Text("%(score)s out of %(high)s", score=int(value), high=question.bounds[1]), locale)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def local_time(epoch: float, timezone: str, locale: str = i18n.DEFAULT_LOCALE) -> str:
    """Epoch seconds as a time in the campaign's zone, written as `locale` does: "Dec 2, 2026, 2:30 PM CET"
    (en), "02.12.2026, 14:30 CET" (de)."""
    try:
        ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        timezone = "UTC"
    return i18n.format_datetime(epoch, locale, timezone or "UTC")


def summary(invitation: Any, campaign: Any, settings: Any) -> dict:
    """What the CX team and webhook receivers are told about one response.

    `score_text` is the headline score with its scale ("2 out of 10"), `answers` every answer as
    [(question text, answer)], `labelled` the contact's properties as [(label, value)], and `answered`
    and `contact_by_text` times in the campaign's time zone; the words are in the team's language
    (config.team_locale), which `locale` names.
    """
    locale = team_locale(campaign.options)
    properties = plain(invitation.properties)
    answers = plain(invitation.answers) or {}
    score = int(invitation.score) if invitation.score is not None else None
    survey = campaign.survey
    scored = survey.nps_question or survey.first
    score_text = out_of(score, scored, locale) if score is not None else "–"
    timezone = getattr(campaign, "timezone", "UTC")
    said = HEADLINES.get(invitation.category or "", NEW_ANSWER)
    headline = i18n.translate(Text(said.msgid, score=score_text, email=invitation.email), locale)
    return {
        "locale": locale,
        "headline": headline,
        "email": invitation.email,
        "score": score,
        "score_text": score_text,
        "category": invitation.category,
        "comment": excerpt(invitation.comment, 1000),
        "answers": [
            (q.text, out_of(answers[q.id], q, locale)) for q in survey.questions if answers.get(q.id) not in (None, [])
        ],
        "themes": detect(invitation.comment, campaign.themes),
        "properties": properties,
        "labelled": [(property_label(k), v) for k, v in sorted(properties.items())],
        "campaign": campaign.name,
        "link": response_page(settings, invitation.id),
        "answered": local_time(invitation.answered_at, timezone, locale) if invitation.answered_at else "",
        "contact_by": invitation.case_due_at,
        "contact_by_text": local_time(invitation.case_due_at, timezone, locale) if invitation.case_due_at else "",
    }


def webhook_payload(kind: str, version: int, invitation: Any, campaign: Any, settings: Any, now: float) -> dict:
    return {
        "type": kind,
        "timestamp": datetime.fromtimestamp(now, UTC).isoformat(),
        "data": {
            "id": invitation.id,
            "version": version,
            "campaign_id": campaign.id,
            "email": invitation.email,
            "score": int(invitation.score) if invitation.score is not None else None,
            "category": invitation.category,
            "answers": plain(invitation.answers),
            "comment": invitation.comment,
            "properties": plain(invitation.properties),
            "answered_at": invitation.answered_at,
            "updated_at": invitation.updated_at,
            "link": f"{settings.base_url}/api/responses/{invitation.id}",
        },
    }


def deliver_event(message: Mapping[str, Any], now: float, settings: Any) -> dict[str, int]:
    """Alert the CX team (email, Slack) and call the webhooks for one event, each destination once."""
    outcomes: dict[str, int] = {}
    try:
        invitation = Invitation.get(message["invitation_id"], consistent_read=True)
    except Invitation.DoesNotExist:
        return {"gone": 1}
    if invitation.erased_at is not None:
        return {"gone": 1}  # its person is being deleted (chalicelib.privacy.deletion)
    if int(invitation.event_version or 0) < int(message["version"]):
        return {"not committed": 1}  # the applier's transaction failed: it announces again
    campaign = get_campaign(invitation.campaign_id)
    if campaign is None:
        return {"gone": 1}
    event_id = f"{invitation.id}.{message['version']}"
    facts = summary(invitation, campaign, settings)
    sends: list[tuple[str, Any]] = []
    if message.get("alert"):
        recipients = campaign.options.get("alert_emails") or (
            [campaign.options["reply_to"]] if campaign.options.get("reply_to") else []
        )
        for address in recipients:

            def by_email(address: str = address) -> webhooks.Result:
                context = {"facts": facts, "campaign": campaign, "preheader": facts["comment"] or facts["headline"]}
                alert = mail.build_message(
                    sender=settings.sender,
                    to=address,
                    subject=facts["headline"],
                    text=render("email/alert.txt", facts["locale"], **context),
                    html=render("email/alert.html", facts["locale"], **context),
                    reply_to=invitation.email,
                )
                try:
                    mail.get_mailer(settings).send(alert, tags={"campaign": campaign.id, "kind": "alert"})
                except mail.MailRejected as exc:
                    return webhooks.Result(False, True, str(exc))
                except mail.MailError as exc:
                    return webhooks.Result(False, False, str(exc))
                return webhooks.Result(True, False, "sent")

            sends.append((f"alert#{event_id}#email#{address}", by_email))
        if campaign.options.get("slack_webhook_url"):
            url = campaign.options["slack_webhook_url"]
            sends.append(
                (
                    f"alert#{event_id}#slack",
                    lambda: outbound.post_json(url, slack_message(facts), local=settings.is_local),
                )
            )
    for endpoint in campaign.webhooks_for(message["type"]):
        payload = webhook_payload(message["type"], int(message["version"]), invitation, campaign, settings, now)
        sends.append(
            (
                f"webhook#{endpoint['id']}#{event_id}",
                lambda e=endpoint, p=payload: webhooks.deliver(
                    e["url"], e["secret"], event_id, int(now), p, local=settings.is_local
                ),
            )
        )
    for key, send in sends:
        claimed = ledger.claim(key, now, payload=dict(message))
        if claimed is None:
            outcomes["already done"] = outcomes.get("already done", 0) + 1
            continue
        try:
            result = send()
        except Exception as exc:  # a failure belongs to its own delivery, never to the ones after it
            result = outbound.Result(False, False, f"{type(exc).__name__}: {exc}")
        if result.ok:
            ledger.done(key, now)
            state = "delivered"
        else:
            state = ledger.failed(claimed, now, result.detail, permanent=result.permanent)
        outcomes[state] = outcomes.get(state, 0) + 1
    return outcomes
