"""The answer page a customer reaches from an invitation, and what its form does.

A GET records nothing: email security scanners open every link in a message. The clicked
score is preselected and counts only with evidence of a person: the Submit button, or the
page's first pointer, touch or key gesture (which saves the preselected score at once).
An answer that arrives within a scanner window is held, and the page asks the person to
confirm it with one more press, which records it at once. Scanner timing rules are in
chalicelib.answers.responses and docs/scanners.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from chalicelib.answers import responses
from chalicelib.campaigns import suppression
from chalicelib.campaigns.campaigns import CampaignView, get_campaign
from chalicelib.core.config import Settings, get_settings
from chalicelib.core.signing import InvitationRef, check_csrf, csrf_token, read_invitation_token, read_unsubscribe_token
from chalicelib.core.surveys import AnswerError, parse_comment
from chalicelib.web import Reply, html, json_reply, parse_form, wants_json
from chalicelib.web.render import render

CSRF_MAX_AGE = 2 * 86400
HELD = (
    "Almost done: your answer is not saved yet. Email security software sometimes opens survey links "
    "by itself, so we ask you to confirm answers given right after that happens. "
    "Please press “Confirm my answer”."
)
BUSY = "We could not save your answer just now. Your answers are still here: please press Submit again."


def not_found() -> Reply:
    return html(render("not_found.html"), status=404)


def _resolve(token: str, now: float, settings: Settings) -> tuple[InvitationRef, CampaignView] | None:
    ref = read_invitation_token(token, settings.require_signing_secrets(), now)
    if ref is None:
        return None
    campaign = get_campaign(ref.campaign_id)
    if campaign is None or campaign.status == "cancelled":
        return None
    return ref, campaign


def _form_page(
    token: str,
    ref: InvitationRef,
    campaign: CampaignView,
    now: float,
    settings: Settings,
    values: Mapping[str, Any],
    comment: str = "",
    errors: Mapping[str, str] | None = None,
    notice: str | None = None,
    status: int = 200,
    confirm: str = "",
) -> Reply:
    first = campaign.survey.first
    body = survey_html(
        campaign,
        f"{settings.base_url}/s/{token}",
        csrf_token(ref.invitation_id, now, settings.require_signing_secrets()),
        values,
        comment,
        errors,
        notice,
        gesture=first.id in values and not confirm,
        confirm=confirm,
    )
    return html(body, status=status)


def survey_html(
    campaign: CampaignView,
    action: str,
    csrf: str,
    values: Mapping[str, Any],
    comment: str = "",
    errors: Mapping[str, str] | None = None,
    notice: str | None = None,
    *,
    gesture: bool = False,
    confirm: str = "",
    script: bool = True,
) -> str:
    """The survey page posting to `action`; a preview passes script=False (its gesture save would record)."""
    return render(
        "survey.html",
        campaign=campaign,
        survey=campaign.survey,
        action=action,
        csrf=csrf,
        values=values,
        comment=comment,
        errors=errors or {},
        notice=notice,
        gesture=gesture,
        confirm=confirm,
        script=script,
    )


def clicked_values(campaign: CampaignView, clicked: str | None) -> dict[str, Any]:
    """The first question preselected with the answer clicked in the email (`?a=`), if it is one."""
    if clicked is None:
        return {}
    try:
        value = campaign.survey.first.parse([clicked])
    except AnswerError:
        return {}
    return {} if value is None else {campaign.survey.first.id: value}


def preview_submit(campaign: CampaignView, form: Mapping[str, list[str]], action: str, csrf: str) -> tuple[int, str]:
    """What pressing Submit shows, checked by the survey's own parser, recording nothing: (status, HTML) of
    the thank-you page, or of the form with its errors as `submit` shows them."""
    answers, errors = campaign.survey.parse_answers(form, only_first=False)
    raw_comment = (form.get("comment") or [""])[0]
    try:
        comment = parse_comment(form.get("comment", []))
    except AnswerError as exc:
        errors["comment"], comment = exc.message, None
    if errors:
        notice = "Please check the highlighted answers."
        return 400, survey_html(campaign, action, csrf, answers, raw_comment, errors, notice, script=False)
    thanks = render(
        "thanks.html",
        campaign=campaign,
        survey=campaign.survey,
        answers=answers,
        comment=comment,
        change_url=action,
    )
    return 200, thanks


def show(token: str, query: Mapping[str, str] | None, now: float) -> Reply:
    """The survey with the clicked answer preselected. Reads nothing but the cached campaign."""
    settings = get_settings()
    found = _resolve(token, now, settings)
    if found is None:
        return not_found()
    ref, campaign = found
    values = clicked_values(campaign, (query or {}).get("a"))
    return _form_page(token, ref, campaign, now, settings, values)


def _same_origin(headers: Mapping[str, str], settings: Settings) -> bool:
    """Browsers send Origin on POST; when it names a site, it must be ours (the CSRF token is checked too)."""
    origin = headers.get("origin") or headers.get("Origin")
    if not origin or origin == "null":
        return True
    ours = urlsplit(settings.base_url)
    theirs = urlsplit(origin)
    return (theirs.scheme, theirs.netloc) == (ours.scheme, ours.netloc)


def submit(token: str, form: Mapping[str, list[str]] | None, headers: Mapping[str, str], now: float) -> Reply:
    settings = get_settings()
    as_json = wants_json(dict(headers))
    found = _resolve(token, now, settings)
    if found is None:
        return json_reply({"status": "not_found"}, 404) if as_json else not_found()
    ref, campaign = found
    if form is None:
        return json_reply({"status": "invalid", "message": "Too much data."}, 413) if as_json else not_found()
    evidence = (form.get("evidence") or [""])[0]
    gesture = evidence == "gesture"
    answers, errors = campaign.survey.parse_answers(form, only_first=gesture)
    try:
        comment = None if gesture else parse_comment(form.get("comment", []))
    except AnswerError as exc:
        errors["comment"], comment = exc.message, None
    shown = {**answers}

    def again(message: str | None, status: int, problems: Mapping[str, str] | None = None) -> Reply:
        if as_json:
            return json_reply({"status": "invalid", "message": message, "errors": dict(problems or {})}, status)
        raw_comment = (form.get("comment") or [""])[0]
        return _form_page(token, ref, campaign, now, settings, shown, raw_comment, problems, message, status)

    csrf = (form.get("csrf") or [""])[0]
    if not _same_origin(headers, settings) or not check_csrf(
        csrf, ref.invitation_id, now, settings.require_signing_secrets(), CSRF_MAX_AGE
    ):
        return again("This page had expired. Your answers are still here: please press Submit again.", 403)
    if errors:
        return again("Please check the highlighted answers.", 400, errors)
    # only a press of the button can send a confirm token back: a script's form.submit() sends no evidence
    confirm = (form.get("confirm") or [""])[0] if evidence == "submit" else ""
    submission = responses.Submission(answers, comment, evidence if evidence in responses.EVIDENCE else "", confirm)
    if not submission.evidence:
        responses.record_filtered(ref, campaign, submission, "no-evidence", now)
        return again("Please press Submit to send your answer.", 400)
    outcome = responses.record(ref, campaign, submission, now, settings)
    if outcome.status == "not_found":
        return json_reply({"status": "not_found"}, 404) if as_json else not_found()
    if outcome.status == "held":
        if as_json:
            return json_reply({"status": "held", "message": HELD, "confirm": outcome.confirm}, 202)
        raw_comment = (form.get("comment") or [""])[0]
        return _form_page(
            token, ref, campaign, now, settings, shown, raw_comment, None, HELD, 200, outcome.confirm or ""
        )
    if outcome.status == "busy":
        return json_reply({"status": "busy", "message": BUSY}, 409) if as_json else again(BUSY, 409)
    if as_json:
        return json_reply({"status": "recorded", "message": "Your answer is saved. Add a comment if you like."})
    return html(
        render(
            "thanks.html",
            campaign=campaign,
            survey=campaign.survey,
            answers=outcome.answers,
            comment=outcome.comment,
            change_url=f"{settings.base_url}/s/{token}",
        )
    )


def trap(token: str, now: float) -> Reply:
    """The hidden link in every invitation: only machines follow it."""
    settings = get_settings()
    found = _resolve(token, now, settings)
    if found is None:
        return not_found()
    responses.record_trap(*found, now)
    return html(render("trap.html"))


def unsubscribe_page(token: str, now: float) -> Reply:
    """A GET only asks: scanners follow every GET link, and must not unsubscribe anyone."""
    settings = get_settings()
    ref = read_unsubscribe_token(token, settings.require_signing_secrets(), now)
    if ref is None:
        return not_found()
    campaign = get_campaign(ref.campaign_id)
    return html(
        render(
            "unsubscribe.html",
            action=f"{settings.base_url}/u/{token}",
            company=campaign.company if campaign else "",
            notice=None,
        )
    )


def one_click(raw: bytes | str | None, content_type: str) -> bool:
    """RFC 8058: the body says `List-Unsubscribe=One-Click`, urlencoded or as multipart form data."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else (raw or "")
    if "multipart/form-data" in (content_type or ""):
        return 'name="List-Unsubscribe"' in text and "One-Click" in text
    return (parse_form(text) or {}).get("List-Unsubscribe") == ["One-Click"]


def unsubscribe(token: str, raw: bytes | str | None, content_type: str, now: float) -> Reply:
    """One click, no cookie, login or CSRF token (RFC 8058 forbids requiring them): the signed link is enough."""
    settings = get_settings()
    ref = read_unsubscribe_token(token, settings.require_signing_secrets(), now)
    if ref is None:
        return not_found()
    if not one_click(raw, content_type):
        return html(
            render(
                "unsubscribe.html",
                action=f"{settings.base_url}/u/{token}",
                company="",
                notice="Press the button to unsubscribe.",
            ),
            status=400,
        )
    if not suppression.unsubscribe(ref.invitation_id, ref.campaign_id, now):
        return not_found()
    return html(render("unsubscribed.html"))
