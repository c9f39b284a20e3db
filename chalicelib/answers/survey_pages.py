"""The answer page a customer reaches from an invitation, and what its form does.

A GET records nothing: email security scanners open every link in a message. The clicked
score is preselected; a page opened without one ("Change your answer", "Or answer on the web")
shows the answers and comment stored, and its Submit replaces them whole, so a field emptied
on purpose is emptied (an `edit` field on that form says so). The clicked score counts only
with evidence of a person: the Submit button, or the page's first pointer, touch or key
gesture (which saves the preselected score at once). An answer that arrives within a
scanner window is held, and the page asks the person to confirm it with one more press,
which records it at once. Scanner timing rules are in chalicelib.answers.responses and
docs/scanners.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.answers import responses
from chalicelib.campaigns import suppression
from chalicelib.campaigns.campaigns import CampaignView, get_campaign
from chalicelib.core import brand, i18n
from chalicelib.core.config import Settings, get_settings
from chalicelib.core.counters import plain
from chalicelib.core.i18n import Text
from chalicelib.core.i18n import translate as _
from chalicelib.core.signing import InvitationRef, check_csrf, csrf_token, read_invitation_token, read_unsubscribe_token
from chalicelib.core.surveys import (
    MAX_COMMENT,
    MAX_OPTION,
    MAX_OPTIONS,
    MAX_QUESTIONS,
    MAX_TEXT,
    AnswerError,
    Survey,
    parse_comment,
)
from chalicelib.store.models import Invitation
from chalicelib.web import Reply, from_another_site, html, json_reply, parse_form, under_base, wants_json
from chalicelib.web.render import render, render_memo

CSRF_MAX_AGE = 2 * 86400
# The largest answer a survey's own limits allow: every question at its longest (a text of MAX_TEXT
# characters, or a multiple choice with every option of MAX_OPTION characters ticked), and the comment,
# each character up to 4 bytes of UTF-8, each byte 3 characters urlencoded (%XX); and the field name of
# every option of every question, besides the form's own fields. Anything larger is no answer (413).
ANSWER_FORM_BYTES = (MAX_QUESTIONS * max(MAX_TEXT, MAX_OPTIONS * MAX_OPTION) + MAX_COMMENT) * 4 * 3 + 16 * 1024
ANSWER_FORM_FIELDS = MAX_QUESTIONS * MAX_OPTIONS + 16
# What the pages tell the customer, in their language (core.i18n.Text).
HELD = Text(
    "Almost done: your answer is not saved yet. Email security software sometimes opens survey links "
    "by itself, so we ask you to confirm answers given right after that happens. "
    "Please press “Confirm my answer”."
)
BUSY = Text("We could not save your answer just now. Your answers are still here: please press Submit again.")
EXPIRED = Text("This page had expired. Your answers are still here: please press Submit again.")
CHECK = Text("Please check the highlighted answers.")
PRESS_SUBMIT = Text("Please press Submit to send your answer.")
RECORDED = Text("Your answer is saved. Add a comment if you like.")
TOO_MUCH = Text("Too much data.")
PRESS_UNSUBSCRIBE = Text("Press the button to unsubscribe.")
# What the status line under the first question says about the answer on the page.
NOT_SAVED = Text("Not saved yet: press Submit to send your answer.")
STORED = Text("Your answer is saved. Change anything below, then press Submit to save the changes.")
CHANGES_NOT_SAVED = Text("Your changes are not saved yet.")


def not_found(locale: str = i18n.DEFAULT_LOCALE) -> Reply:
    return html(render("not_found.html", locale), status=404)


def contact_locale(invitation_id: str, campaign: CampaignView) -> str:
    """The language of the invitation's contact, as their emails had it (core.i18n.contact_locale); the
    invitation is read only when the campaign offers more than one language."""
    default, offered = i18n.campaign_locales(campaign.options)
    if len(offered) == 1:
        return default
    try:
        invitation = Invitation.get(invitation_id, attributes_to_get=["properties"])
    except Invitation.DoesNotExist:
        return default
    return i18n.contact_locale(campaign.options, plain(invitation.properties) or {})


def _resolve(token: str, now: float, settings: Settings) -> tuple[InvitationRef, CampaignView] | None:
    ref = read_invitation_token(token, settings.require_signing_secrets(), now)
    if ref is None:
        return None
    campaign = get_campaign(ref.campaign_id)
    if campaign is None:
        return None
    return ref, campaign  # a cancelled campaign sends nothing more, but what it sent still takes answers


def in_language(campaign: CampaignView, requested: str | None) -> tuple[CampaignView, str]:
    """The campaign in the language a page's link or form names (`l`, which the invitation's links carry in
    a campaign offering several) when it offers it, else in its default; and that language's code for the
    page's form and links to carry, "" in a campaign with one language (they carry none)."""
    default, offered = i18n.campaign_locales(campaign.options)
    locale = i18n.negotiate(requested, offered, default)
    return campaign.in_language(locale), locale if len(offered) > 1 else ""


def requested_locale(given: str | None, invitation_id: str, campaign: CampaignView) -> str:
    """The language a page asks for: the one its link or form names when the campaign offers it, else the
    contact's (contact_locale: one read, in a campaign with several languages only). So a link typed by
    hand, sent before a translation was added, or naming a language the campaign does not offer still
    gives the contact their own, on the page and on the pages after it."""
    _, offered = i18n.campaign_locales(campaign.options)
    if given and i18n.normalize(given) in offered:
        return given
    return contact_locale(invitation_id, campaign)


def page_locale(campaign: CampaignView, language: str) -> str:
    """The language of a page's own words: the one its link or form names (in_language), else the campaign's."""
    return language or campaign.locale_for(None)


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
    gesture: bool = False,
    edit: bool = False,
    saved: str = CHANGES_NOT_SAVED,
    locale: str = i18n.DEFAULT_LOCALE,
    language: str = "",
) -> Reply:
    """`values` are shown as given ({question id: text or list of texts}); `gesture` arms the page's
    first-gesture save of a clicked score; `edit` marks a form that shows every stored answer."""
    body = survey_html(
        campaign,
        # the language in the URL too: a form too large to read still gets its 413 page in it
        under_base(settings.base_url, f"/s/{token}") + (f"?l={language}" if language else ""),
        csrf_token(ref.invitation_id, now, settings.require_signing_secrets()),
        values,
        comment,
        errors,
        notice,
        gesture=gesture and not confirm,
        confirm=confirm,
        edit=edit,
        saved=saved,
        locale=locale,
        language=language,
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
    edit: bool = False,
    saved: str = CHANGES_NOT_SAVED,
    script: bool = True,
    language: str = "",
    locale: str = i18n.DEFAULT_LOCALE,
) -> str:
    """The survey page posting to `action`; a preview passes script=False (its gesture save would record).
    `campaign` is in the customer's language (in_language), `locale` the language of the page's own words,
    and `language` its code when the form must carry it ("" for the campaign's default)."""
    context = {
        "campaign": campaign,
        "survey": campaign.survey,
        "values": values,
        "comment": comment,
        "errors": errors or {},
        "notice": notice,
        "gesture": gesture,
        "confirm": confirm,
        "edit": edit,
        "saved": saved,
        "brand": brand.palette(campaign.options.get("brand_color")),
        "logo": campaign.options.get("logo_url"),
        "script": script,
        "language": language,
    }
    if comment or errors or notice or confirm or edit:
        return render("survey.html", locale, action=action, csrf=csrf, **context)
    # nothing typed into it (a clicked score, a blank form): remembered, its action and token apart
    return render_memo("survey.html", locale, {"action": action, "csrf": csrf}, **context)


def clicked_values(campaign: CampaignView, clicked: str | None) -> dict[str, Any]:
    """The first question preselected with the answer clicked in the email (`?a=`), if it is one, as text."""
    if clicked is None:
        return {}
    try:
        value = campaign.survey.first.parse([clicked])
    except AnswerError:
        return {}
    return {} if value is None else {campaign.survey.first.id: str(value)}


def preview_submit(
    campaign: CampaignView,
    form: Mapping[str, list[str]],
    action: str,
    csrf: str,
    locale: str = i18n.DEFAULT_LOCALE,
) -> tuple[int, str]:
    """What pressing Submit shows, checked by the survey's own parser, recording nothing: (status, HTML) of
    the thank-you page, or of the form with its errors as `submit` shows them, in `locale`."""
    answers, errors = campaign.survey.parse_answers(form, only_first=False)
    raw_comment = (form.get("comment") or [""])[0]
    try:
        comment = parse_comment(form.get("comment", []))
    except AnswerError as exc:
        errors["comment"], comment = exc.message, None
    if errors:
        typed = campaign.survey.typed(form)
        return 400, survey_html(campaign, action, csrf, typed, raw_comment, errors, CHECK, script=False, locale=locale)
    get_back = bool(campaign.options.get("reply_to"))
    return 200, thanks_html(campaign, answers, comment, action, get_back=get_back, locale=locale)


def thanks_html(
    campaign: CampaignView,
    answers: Mapping[str, Any],
    comment: str | None,
    change_url: str,
    *,
    get_back: bool,
    locale: str = i18n.DEFAULT_LOCALE,
) -> str:
    """The thank-you page in `locale`; `get_back` lets it promise a reply (a reply-to is set, the customer is
    subscribed)."""
    context = {
        "campaign": campaign,
        "survey": campaign.survey,
        "answers": answers,
        "comment": comment,
        "get_back": get_back,
        "brand": brand.palette(campaign.options.get("brand_color")),
        "logo": campaign.options.get("logo_url"),
    }
    if comment or any(q.type == "text" and answers.get(q.id) for q in campaign.survey.questions):
        return render("thanks.html", locale, change_url=change_url, **context)
    # an answer without written words: remembered, its link apart
    return render_memo("thanks.html", locale, {"change_url": change_url}, **context)


def shown(survey: Survey, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Stored answers as the form shows them: texts, lists of texts for multiple choices."""
    values: dict[str, Any] = {}
    for question in survey.questions:
        value = answers.get(question.id)
        if value is None:
            continue
        values[question.id] = [str(v) for v in value] if isinstance(value, list | tuple) else str(value)
    return values


def _stored(ref: InvitationRef, campaign: CampaignView) -> tuple[dict[str, Any], str] | None:
    """The answers and comment stored on the invitation, or None before its first answer."""
    try:
        invitation = Invitation.get(ref.invitation_id)
    except Invitation.DoesNotExist:
        return None
    if invitation.campaign_id != campaign.id or invitation.answered_at is None:
        return None
    return plain(invitation.answers) or {}, invitation.comment or ""


def show(token: str, query: Mapping[str, str] | None, now: float) -> Reply:
    """The survey with the clicked answer preselected, reading nothing but the cached campaign; without
    a clicked answer, the form shows what is stored (one read of the invitation)."""
    settings = get_settings()
    found = _resolve(token, now, settings)
    if found is None:
        return not_found(i18n.normalize((query or {}).get("l")) or i18n.DEFAULT_LOCALE)
    ref, campaign = found
    campaign, language = in_language(campaign, requested_locale((query or {}).get("l"), ref.invitation_id, campaign))
    locale = page_locale(campaign, language)
    clicked = (query or {}).get("a")
    if clicked is not None:
        values = clicked_values(campaign, clicked)
        return _form_page(
            token,
            ref,
            campaign,
            now,
            settings,
            values,
            gesture=bool(values),
            saved=NOT_SAVED,
            language=language,
            locale=locale,
        )
    stored = _stored(ref, campaign)
    if stored is None:
        return _form_page(token, ref, campaign, now, settings, {}, saved=NOT_SAVED, language=language, locale=locale)
    answers, comment = stored
    return _form_page(
        token,
        ref,
        campaign,
        now,
        settings,
        shown(campaign.survey, answers),
        comment,
        edit=True,
        saved=STORED,
        locale=locale,
        language=language,
    )


def submit(
    token: str,
    form: Mapping[str, list[str]] | None,
    headers: Mapping[str, str],
    now: float,
    query: Mapping[str, str] | None = None,
) -> Reply:
    """`form` is None when the body was too large to read; the language is the form's `l`, else the
    action URL's (`query`), else the contact's."""
    settings = get_settings()
    as_json = wants_json(dict(headers))
    said = ((form or {}).get("l") or [""])[0] or (query or {}).get("l") or ""
    found = _resolve(token, now, settings)
    if found is None:
        return (
            json_reply({"status": "not_found"}, 404)
            if as_json
            else not_found(i18n.normalize(said) or i18n.DEFAULT_LOCALE)
        )
    ref, campaign = found
    if form is None:  # larger than any answer: the form again, empty, saying so, in the page's language
        shown_as, language = in_language(campaign, requested_locale(said, ref.invitation_id, campaign))
        locale = page_locale(shown_as, language)
        if as_json:
            return json_reply({"status": "invalid", "message": _(TOO_MUCH, locale)}, 413)
        return _form_page(
            token, ref, shown_as, now, settings, {}, notice=TOO_MUCH, status=413, locale=locale, language=language
        )
    requested = requested_locale(said, ref.invitation_id, campaign)
    shown_as, language = in_language(campaign, requested)  # pages in it; answers recorded as given
    locale = page_locale(campaign, language)
    evidence = (form.get("evidence") or [""])[0]
    gesture = evidence == "gesture"
    # a form that showed every stored answer replaces them whole: what was emptied is cleared
    edit = not gesture and (form.get("edit") or [""])[0] == "1"
    survey = campaign.survey
    answers, errors = survey.parse_answers(form, only_first=gesture)
    text_box = survey.comment_question
    try:
        if gesture:
            comment = None
        elif text_box is not None:  # the survey's text question is its one free-text box
            comment = answers.get(text_box.id) or ("" if edit else None)
        else:
            comment = parse_comment(form.get("comment", []))
            if comment is None and edit:
                comment = ""
    except AnswerError as exc:
        errors["comment"], comment = exc.message, None
    cleared = tuple(q.id for q in survey.questions if edit and q.id not in answers and q.id not in errors)
    typed = survey.typed(form)
    raw_comment = (form.get("comment") or [""])[0]

    def form_again(
        notice: str | None, status: int, problems: Mapping[str, str] | None = None, confirm: str = ""
    ) -> Reply:
        """The form as typed, with a notice (and the answers to correct, or a confirm token)."""
        return _form_page(
            token,
            ref,
            shown_as,
            now,
            settings,
            typed,
            raw_comment,
            problems,
            notice,
            status,
            confirm,
            edit=edit,
            language=language,
            locale=locale,
        )

    def again(message: str | None, status: int, problems: Mapping[str, str] | None = None) -> Reply:
        if as_json:
            said = {qid: _(text, locale) for qid, text in (problems or {}).items()}
            return json_reply({"status": "invalid", "message": _(message, locale), "errors": said}, status)
        return form_again(message, status, problems)

    csrf = (form.get("csrf") or [""])[0]
    if from_another_site(headers, settings.base_url) or not check_csrf(
        csrf, ref.invitation_id, now, settings.require_signing_secrets(), CSRF_MAX_AGE
    ):
        return again(EXPIRED, 403)
    if errors:
        return again(CHECK, 400, errors)
    # only a press of the button can send a confirm token back: a script's form.submit() sends no evidence
    confirm = (form.get("confirm") or [""])[0] if evidence == "submit" else ""
    submission = responses.Submission(
        answers, comment, evidence if evidence in responses.EVIDENCE else "", confirm, cleared
    )
    if not submission.evidence:
        responses.record_filtered(ref, campaign, submission, "no-evidence", now)
        return again(PRESS_SUBMIT, 400)
    outcome = responses.record(ref, campaign, submission, now, settings)
    if outcome.status == "not_found":
        return json_reply({"status": "not_found"}, 404) if as_json else not_found(locale)
    if outcome.status == "held":
        if as_json:
            return json_reply({"status": "held", "message": _(HELD, locale), "confirm": outcome.confirm}, 202)
        return form_again(HELD, 200, confirm=outcome.confirm or "")
    if outcome.status == "busy":
        return json_reply({"status": "busy", "message": _(BUSY, locale)}, 409) if as_json else again(BUSY, 409)
    if as_json:
        return json_reply({"status": "recorded", "message": _(RECORDED, locale)})
    get_back = bool(campaign.options.get("reply_to")) and not outcome.unsubscribed
    change_url = f"{settings.base_url}/s/{token}" + (f"?l={language}" if language else "")
    return html(thanks_html(shown_as, outcome.answers, outcome.comment, change_url, get_back=get_back, locale=locale))


def trap(token: str, now: float) -> Reply:
    """The hidden link in every invitation: only machines follow it."""
    settings = get_settings()
    found = _resolve(token, now, settings)
    if found is None:
        return not_found()
    responses.record_trap(*found, now)
    return html(render("trap.html", contact_locale(found[0].invitation_id, found[1])))


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
            _unsubscribe_locale(ref.invitation_id, campaign),
            action=under_base(settings.base_url, f"/u/{token}"),
            company=campaign.company if campaign else "",
            notice=None,
        )
    )


def _unsubscribe_locale(invitation_id: str, campaign: CampaignView | None) -> str:
    return contact_locale(invitation_id, campaign) if campaign is not None else i18n.DEFAULT_LOCALE


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
    locale = _unsubscribe_locale(ref.invitation_id, get_campaign(ref.campaign_id))
    if not one_click(raw, content_type):
        return html(
            render(
                "unsubscribe.html",
                locale,
                action=under_base(settings.base_url, f"/u/{token}"),
                company="",
                notice=PRESS_UNSUBSCRIBE,
            ),
            status=400,
        )
    done = suppression.unsubscribe(ref.invitation_id, ref.campaign_id, now)
    if done is None:
        return not_found(locale)
    return html(render("unsubscribed.html", locale, answered=done.answered))
