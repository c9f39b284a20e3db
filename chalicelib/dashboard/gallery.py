"""Every email and page of a campaign as a customer of a chosen locale gets them, rendered by the code
that sends them and neither sent nor stored: the local stage's `/dev/preview` and the CLI's `preview`.

The customer is a sample recipient (the campaign's first, else `customer@example.com`) whose
`properties["locale"]` is the chosen locale, which is how the sending code picks a customer's language
(`core.i18n.negotiate` against the languages the campaign offers). Emails are built for an invitation
that exists only in memory, with the id `preview`, so no link in them names a real invitation; their
links to the survey and unsubscribe pages are rewired to the gallery's own documents. The CX team's
mails (alert, digest, sign-in) are shown in the chosen locale too. Pages and emails are shown in
sandboxed frames with the campaign preview's headers and banner (`send_pages`): no script, no form
posts, nothing recorded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

from chalicelib import mail
from chalicelib.answers import survey_pages
from chalicelib.campaigns import campaigns
from chalicelib.campaigns.campaigns import CampaignView
from chalicelib.campaigns.contacts import Recipient
from chalicelib.core import alert_rules, i18n, personalize
from chalicelib.core.config import PROJECT_ROOT, Settings, get_settings
from chalicelib.core.counters import category as nps_category
from chalicelib.core.errors import NotFound
from chalicelib.dashboard import send_pages, sessions
from chalicelib.dashboard.people import Person
from chalicelib.insight import digest
from chalicelib.loop import alerts, followups
from chalicelib.mail.message import wire_bytes
from chalicelib.sending import invitations
from chalicelib.store.models import Invitation
from chalicelib.web import Reply, html
from chalicelib.web.render import ASSETS, asset, render

PREVIEW_ID = "preview"  # the in-memory invitation's id and the placeholder token: no real invitation has it
SAMPLE_EMAIL = send_pages.SAMPLE_EMAIL
TEAM_EMAIL = "cx-lead@example.com"  # the digest's and sign-in's sample addressee: no real preferences link
CATEGORY_SCORES = {"promoter": 9, "passive": 7, "detractor": 3}
CLICKED = "9"  # the score clicked in the email, when the first question's scale has it
# What the sample customer writes, in the language they are addressed in (their words, not our interface).
SAMPLE_COMMENTS = {
    "en": "The invoice page took me an hour to find, but support answered quickly.",
    "fr": "J'ai mis une heure à trouver la page des factures, mais le support a répondu vite.",
    "de": "Ich habe eine Stunde gebraucht, um die Rechnungsseite zu finden, aber der Support war schnell.",
    "es": "Tardé una hora en encontrar la página de facturas, pero el soporte respondió rápido.",
    "pt_BR": "Levei uma hora para achar a página de faturas, mas o suporte respondeu rápido.",
    "ar": "استغرق العثور على صفحة الفواتير ساعة، لكن الدعم رد بسرعة.",
}
# The gallery's documents run no script and post no form: the pages they would post to are items too.
PAGE_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' https: data:; script-src 'none'; "
    "form-action 'none'; frame-ancestors 'self'; base-uri 'none'"
)
WIDTHS = send_pages.WIDTHS
CAMPAIGNS_LISTED = 50


@dataclass(frozen=True)
class Sample:
    """Who the gallery renders for: the campaign, the chosen locale and the language the customer gets."""

    campaign: CampaignView
    locale: str
    language: str  # what the campaign offers that locale: the locale itself, or the campaign's default
    email: str
    properties: Mapping[str, Any]
    now: float
    settings: Settings

    @property
    def shown(self) -> CampaignView:
        """The campaign as this customer reads it: its texts in their language."""
        return self.campaign.in_language(self.language)

    @property
    def comment(self) -> str:
        return SAMPLE_COMMENTS.get(self.language, SAMPLE_COMMENTS[i18n.DEFAULT_LOCALE])


@dataclass(frozen=True)
class Item:
    """One email or page: `html` is its document (links rewired to the gallery's `name`s), `message` the
    email as built, `error` why this one cannot be built for the sample (a template refused)."""

    name: str  # the document's file name, e.g. "ack-detractor.html"
    title: str
    kind: str  # "email" | "page"
    html: str = ""
    message: EmailMessage | None = None
    error: str = ""

    @property
    def stem(self) -> str:
        return self.name.removesuffix(".html")

    @property
    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content() if self.message else ""

    def header(self, name: str) -> str:
        return str(self.message[name]) if self.message and self.message[name] else ""


Rendered = tuple[str, EmailMessage | None]  # a document (links rewired) and, for an email, the message


@dataclass(frozen=True)
class Entry:
    name: str
    title: str
    kind: str
    render: Callable[[Sample], Rendered]


def check_locale(locale: str) -> None:
    """`locale` when it is a key of i18n.LANGUAGES; NotFound (field `locale`) naming the supported ones."""
    if locale not in i18n.LANGUAGES:
        raise NotFound(f"No language {locale[:20]!r}: use one of {', '.join(i18n.LANGUAGES)}.", "locale")


def sample(campaign_id: str, locale: str, now: float) -> Sample:
    """The sample customer of a campaign in `locale`: its first recipient's address and properties (one
    Query, one GetItem) with `locale` set, or customer@example.com. Raises NotFound for an unknown
    campaign (field `campaign_id`) or locale (field `locale`)."""
    check_locale(locale)
    campaign = campaigns.get_view(campaign_id)
    email, properties = SAMPLE_EMAIL, {"first_name": "Alex"}
    ids, _ = invitations.campaign_invitation_ids(campaign.id, None, 1)
    if ids:
        first = Invitation.get(ids[0])
        email, properties = first.email, invitations.properties_of(first)
    default, offered = i18n.campaign_locales(campaign.options)
    language = i18n.negotiate(locale, offered, default)
    return Sample(campaign, locale, language, email, {**properties, "locale": locale}, now, get_settings())


def catalogue(campaign: CampaignView) -> list[Entry]:
    """Every email and page of `campaign`, in the order a customer meets them, then the team's mails."""
    categories = list(CATEGORY_SCORES) if campaign.survey.nps_question else ["neutral"]
    clicked = _clicked(campaign) or "nothing"
    entries = [Entry("invitation.html", "Invitation email", "email", _invitation)]
    entries += [
        Entry(f"reminder-{n}.html", f"Reminder {n} email", "email", _reminder(n))
        for n in range(1, len(campaign.reminders) + 1)
    ]
    entries += [
        Entry("survey.html", f"Survey page, {clicked} clicked in the email", "page", _survey),
        Entry("survey-error.html", "Survey page with an answer to correct", "page", _survey_error),
    ]
    entries += [Entry(f"thanks-{c}.html", f"Thank-you page, {c}", "page", _thanks(c)) for c in categories]
    entries += [
        Entry("unsubscribe.html", "Unsubscribe page", "page", _unsubscribe),
        Entry("unsubscribed.html", "Unsubscribed page", "page", _unsubscribed),
    ]
    entries += [Entry(f"ack-{c}.html", f"Acknowledgement email, {c}", "email", _ack(c)) for c in categories]
    entries += [
        Entry("alert.html", f"Alert email, {categories[-1]}", "email", _alert(categories[-1])),
        Entry("digest.html", "Digest email, this week so far", "email", _digest),
        Entry("sign-in.html", "Sign-in email", "email", _sign_in),
    ]
    return entries


def build(sample_: Sample, only: str | None = None) -> list[Item]:
    """The items of the sample's campaign (only the one named `only`, when given), each rendered now."""
    return [_built(entry, sample_) for entry in catalogue(sample_.campaign) if only in (None, entry.name)]


def _built(entry: Entry, sample_: Sample) -> Item:
    try:
        body, message = entry.render(sample_)
    except (personalize.TemplateRefused, mail.MessageInvalid) as exc:
        return Item(entry.name, entry.title, entry.kind, error=str(exc))
    return Item(entry.name, entry.title, entry.kind, body, message)


# --- the sample's answers and invitation ---------------------------------------------------------


def _clicked(campaign: CampaignView) -> str:
    values = campaign.survey.first.one_click_values()
    return CLICKED if CLICKED in values else (values[-1] if values else "")


def _answers(sample_: Sample, category: str) -> dict[str, Any]:
    """An answer to every question: the NPS score of `category`, other scales in proportion, the first
    choice or choices, the sample comment in a text question."""
    survey, score = sample_.campaign.survey, CATEGORY_SCORES.get(category)
    answers: dict[str, Any] = {}
    for question in survey.questions:
        if question.type == "nps" and score is not None:
            answers[question.id] = score
        elif question.is_scale:
            low, high = question.bounds
            answers[question.id] = low + round((high - low) * (score if score is not None else 9) / 10)
        elif question.type == "single_choice":
            answers[question.id] = question.options[0]
        elif question.type == "multi_choice":
            answers[question.id] = list(question.options[: max(1, question.min_choices)])
        elif question.type == "text":
            answers[question.id] = sample_.comment
    return answers


def _answered(sample_: Sample, category: str) -> Invitation:
    """The sample's invitation, in memory, answered with `category`'s answers as the applier leaves it:
    a case opened (with its target time) when the campaign's alert rules match."""
    campaign = sample_.campaign
    invitation = _invitation_of(sample_)
    answers = _answers(sample_, category)
    nps = campaign.survey.nps_question
    score = (
        answers.get(nps.id)
        if nps
        else (answers.get(campaign.survey.first.id) if campaign.survey.first.is_scale else None)
    )
    invitation.answers = answers
    invitation.score = score
    invitation.category = nps_category(score) if nps and score is not None else None
    invitation.comment = sample_.comment  # the comment box's, or the text question's answer (the page's one box)
    invitation.answered_at = invitation.updated_at = sample_.now
    invitation.loop_status = "new"
    properties = invitations.properties_of(invitation)
    if alert_rules.matches(
        campaign.alert_rules, score, invitation.category, sample_.comment, properties, campaign.themes
    ):
        invitation.case_due_at = sample_.now + campaign.contact_within_hours * 3600
    return invitation


def _invitation_of(sample_: Sample) -> Invitation:
    recipient = Recipient(sample_.email, dict(sample_.properties))
    invitation = invitations.new_invitation(sample_.campaign, recipient, sample_.now, sample_.settings)
    invitation.id = PREVIEW_ID
    return invitation


def rewire(text: str, base_url: str) -> str:
    """A customer's links to the survey and unsubscribe pages (placeholder or signed tokens) as the
    gallery's documents beside this one: `survey.html` (keeping a clicked `?a=`) and `unsubscribe.html`."""
    base = re.escape(base_url)
    text = re.sub(base + r"/s/[A-Za-z0-9._~%-]+(?:/t)?", "survey.html", text)
    return re.sub(base + r"/u/[A-Za-z0-9._~%-]+", "unsubscribe.html", text)


def _email(message: EmailMessage, settings: Settings) -> Rendered:
    return rewire(message.get_body(("html",)).get_content(), settings.base_url), message


def _page(body: str, settings: Settings) -> Rendered:
    return rewire(body, settings.base_url), None


# --- the customer's emails and pages -------------------------------------------------------------


def _invitation(sample_: Sample, reminder: int = 0) -> Rendered:
    campaign, settings = sample_.campaign, sample_.settings
    message = invitations.render_invitation(
        campaign, _invitation_of(sample_), settings, sample_.now, reminder=reminder, token=PREVIEW_ID
    )
    return _email(message, settings)


def _reminder(number: int) -> Callable[[Sample], Rendered]:
    return lambda sample_: _invitation(sample_, reminder=number)


def _survey(sample_: Sample, clicked: str | None = None) -> Rendered:
    campaign = sample_.shown
    values = survey_pages.clicked_values(campaign, clicked if clicked is not None else _clicked(campaign))
    body = survey_pages.survey_html(
        campaign,
        "survey.html",
        PREVIEW_ID,
        values,
        notice=None,
        script=False,
        saved=survey_pages.NOT_SAVED,
        locale=sample_.language,
    )
    return _page(body, sample_.settings)


def survey_clicked(clicked: str) -> Entry:
    """The survey page as an answer clicked in the email (`?a=`) opens it."""
    title = f"Survey page, {clicked} clicked in the email"
    return Entry("survey.html", title, "page", lambda sample_: _survey(sample_, clicked))


def _survey_error(sample_: Sample) -> Rendered:
    """Submit with the first answer outside its choices: the page with the answers to correct, as typed."""
    survey = sample_.campaign.survey
    form: dict[str, list[str]] = {}
    for question_id, answer in _answers(sample_, "promoter").items():
        form[survey.question(question_id).field_name] = (
            [str(a) for a in answer] if isinstance(answer, list) else [str(answer)]
        )
    form[survey.first.field_name] = ["99"]
    if survey.comment_question is None:
        form["comment"] = [sample_.comment]
    _, body = survey_pages.preview_submit(sample_.shown, form, "survey.html", PREVIEW_ID, sample_.language)
    return _page(body, sample_.settings)


def _thanks(category: str) -> Callable[[Sample], Rendered]:
    def thanks(sample_: Sample) -> Rendered:
        campaign = sample_.shown
        get_back = bool(campaign.options.get("reply_to"))
        answers = _answers(sample_, category)
        body = survey_pages.thanks_html(
            campaign, answers, sample_.comment, "survey.html", get_back=get_back, locale=sample_.language
        )
        return _page(body, sample_.settings)

    return thanks


def _unsubscribe(sample_: Sample) -> Rendered:
    body = render(
        "unsubscribe.html",
        sample_.language,
        action="unsubscribed.html",
        company=sample_.campaign.company,
        notice=None,
        csrf=PREVIEW_ID,
    )
    return _page(body, sample_.settings)


def _unsubscribed(sample_: Sample) -> Rendered:
    """As the sample customer sees it after answering (the thank-you page, the acknowledgements): with thanks."""
    return _page(render("unsubscribed.html", sample_.language, answered=True), sample_.settings)


def _ack(category: str) -> Callable[[Sample], Rendered]:
    def ack(sample_: Sample) -> Rendered:
        invitation = _answered(sample_, category)
        sent_at = sample_.now + sample_.settings.ack_delay
        return _email(followups.render_ack(sample_.campaign, invitation, sample_.settings, sent_at), sample_.settings)

    return ack


# --- the CX team's emails ------------------------------------------------------------------------


def _team_message(template: str, context: dict[str, Any], locale: str, **headers: Any) -> EmailMessage:
    """The alert and sign-in mails are built inline where they are sent (`alerts.deliver_event`,
    `sessions.request_link`): the same templates, context and headers here, in `locale`."""
    text, body = (render(f"email/{template}.{ext}", locale, **context) for ext in ("txt", "html"))
    return mail.build_message(text=text, html=body, **headers)


def _alert(category: str) -> Callable[[Sample], Rendered]:
    def alert(sample_: Sample) -> Rendered:
        campaign, settings = sample_.campaign, sample_.settings
        invitation = _answered(sample_, category)
        # the team's language is the chosen one, for the alert's own words (headline, score, times) too
        team = replace(campaign, options={**campaign.options, "team_locale": sample_.locale})
        facts = alerts.summary(invitation, team, settings)
        to = (campaign.options.get("alert_emails") or [campaign.options.get("reply_to") or TEAM_EMAIL])[0]
        context = {"facts": facts, "campaign": campaign, "preheader": facts["comment"] or facts["headline"]}
        message = _team_message(
            "alert",
            context,
            facts["locale"],
            sender=settings.sender,
            to=to,
            subject=facts["headline"],
            reply_to=invitation.email,
        )
        return _email(message, settings)

    return alert


def _digest(sample_: Sample) -> Rendered:
    campaign, settings = sample_.campaign, sample_.settings
    period = digest.latest_period("weekly", sample_.now, campaign.timezone, so_far=True)
    built = digest.preview(campaign, period, sample_.now)
    message = digest.render_message(built, TEAM_EMAIL, settings, locale=sample_.locale)
    return _email(message, settings)


def _sign_in(sample_: Sample) -> Rendered:
    settings = sample_.settings
    context = {
        "person": Person(TEAM_EMAIL, "Sam", "admin"),
        "link": f"{settings.base_url}{sessions.SIGN_IN}/{PREVIEW_ID}",
        "minutes": sessions.LINK_SECONDS // 60,
    }
    subject = i18n.translate(sessions.SUBJECT, sample_.locale)
    message = _team_message("sign_in", context, sample_.locale, sender=settings.sender, to=TEAM_EMAIL, subject=subject)
    return _email(message, settings)


# --- the local stage's pages ---------------------------------------------------------------------


def _item_refused(item: Item) -> str:
    message = f"{item.title} cannot be built for this customer: {item.error}"
    return render("preview_refused.html", message=message, languages=None)


def _enabled() -> bool:
    return get_settings().is_local


def _refused(exc: NotFound) -> Reply:
    """A clear 404: what names nothing, and the supported languages when it was the locale."""
    languages = i18n.LANGUAGES if exc.field == "locale" else None
    return html(render("preview_refused.html", message=exc.message, languages=languages), status=404)


def index() -> Reply:
    """`/dev/preview`: the campaigns (newest first) and the languages to preview them in."""
    if not _enabled():
        return html(render("not_found.html"), status=404)
    found, _ = campaigns.list_campaigns(CAMPAIGNS_LISTED, None)
    return html(render("preview_index.html", campaigns=found, languages=i18n.LANGUAGES))


def gallery(campaign_id: str, locale: str, query: Mapping[str, str] | None, now: float) -> Reply:
    """`/dev/preview/{campaign_id}/{locale}`: every item in a frame `?width=` 390 or 1280 px wide."""
    if not _enabled():
        return html(render("not_found.html"), status=404)
    try:
        sample_ = sample(campaign_id, locale, now)
    except NotFound as exc:
        return _refused(exc)
    width = (query or {}).get("width")
    return html(
        render(
            "preview_gallery.html",
            s=sample_,
            items=build(sample_),
            languages=i18n.LANGUAGES,
            widths=WIDTHS,
            width=width if width in dict(WIDTHS) else WIDTHS[0][0],
            base=f"/dev/preview/{quote(campaign_id, safe='')}/{locale}/",
            offline=False,
        ),
        frames=True,
    )


def document(campaign_id: str, locale: str, name: str, query: Mapping[str, str] | None, now: float) -> Reply:
    """`/dev/preview/{campaign_id}/{locale}/{name}`: one item's document, framed by the gallery only;
    `survey.html?a=` opens the survey page with that answer clicked."""
    if not _enabled():
        return html(render("not_found.html"), status=404)
    try:
        sample_ = sample(campaign_id, locale, now)
    except NotFound as exc:
        return _refused(exc)
    clicked = (query or {}).get("a")
    found = [_built(survey_clicked(clicked), sample_)] if name == "survey.html" and clicked else build(sample_, name)
    if not found:
        return _refused(NotFound(f"No item {name[:60]!r} in this campaign's preview.", "name"))
    item = found[0]
    body = item.html or _item_refused(item)
    framed = send_pages._framed(body, send_pages.EMAIL_CSP if item.kind == "email" else PAGE_CSP)
    return Reply(framed.status_code, framed.body, framed.headers)


# --- the CLI's files -----------------------------------------------------------------------------


def default_folder(campaign_id: str, locale: str) -> Path:
    """Where the CLI writes a preview by default, beside the local outbox: `.local/preview/ID/LOCALE`."""
    return PROJECT_ROOT / ".local" / "preview" / campaign_id / locale


def write(sample_: Sample, folder: Path) -> list[Path]:
    """Write every item into `folder` (created): a page as `.html`; an email as `.html`, `.txt` and the
    message as `.eml`; the style sheet the pages use; and `index.html` last, with every item framed.
    Returns the files written, index last. Links between them are relative, so the folder opens offline."""
    settings = sample_.settings
    folder.mkdir(parents=True, exist_ok=True)
    items = build(sample_)
    written: list[Path] = []
    assets: set[str] = set()

    def put(name: str, content: str | bytes) -> None:
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(_local_assets(content, settings.base_url, assets), encoding="utf-8")
        written.append(path)

    for item in items:
        put(item.name, item.html or _item_refused(item))
        if item.message is not None:
            put(f"{item.stem}.txt", item.text)
            put(f"{item.stem}.eml", wire_bytes(item.message))
    page = render(
        "preview_gallery.html",
        s=sample_,
        items=items,
        languages=i18n.LANGUAGES,
        widths=WIDTHS,
        width=WIDTHS[0][0],
        base="",
        offline=True,
    )
    index_html = _local_assets(page, settings.base_url, assets)
    for name in sorted(assets):
        put(name, asset(name)[0])
    put("index.html", index_html)
    return written


def _local_assets(text: str, base_url: str, found: set[str]) -> str:
    """Links to our static files as files beside the page (`site.css`); `found` collects their names."""

    def local(match: re.Match) -> str:
        found.add(match.group(1))
        return match.group(1)

    names = "|".join(re.escape(name) for name in ASSETS)
    return re.sub(re.escape(f"{base_url}/static/") + rf"({names})\?v=[0-9a-f]+", local, text)
