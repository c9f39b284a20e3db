"""Delighted's v1 API on our campaigns: each use case takes the caller's key and parsed input and returns
(status, JSON body, headers). The mapping is in docs/delighted.md: a person is a contact, a survey request
an invitation, a survey response an answered invitation, Autopilot a recurring campaign; a key's
default campaign is Delighted's project, and `trend` (or a person's `campaign` property) names another.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode

from chalicelib.admin import api as admin_api
from chalicelib.admin import ratelimit
from chalicelib.answers.counting import NEW_CASE
from chalicelib.campaigns import campaigns, contacts, suppression
from chalicelib.campaigns.campaigns import CampaignView
from chalicelib.campaigns.contacts import Recipient
from chalicelib.core import counters, nps, schedule, surveys
from chalicelib.core.config import get_settings, v1_rate_limit
from chalicelib.core.errors import CursorRefused, NotFound, PayloadTooLarge, TooManyRequests, ValidationError
from chalicelib.core.signing import new_id
from chalicelib.delighted import history, shapes
from chalicelib.delighted.keys import Key
from chalicelib.insight import reports, stats
from chalicelib.loop.followups import response_page
from chalicelib.privacy import deletion
from chalicelib.queue import get_queue
from chalicelib.sending import imports, invitations
from chalicelib.store import bind, count_pending, one_page
from chalicelib.store.models import Contact, Invitation, Member, Suppression
from chalicelib.store.transact import update
from chalicelib.web import MAX_JSON_BYTES, parse_json

Answer = tuple[int, Any, dict[str, str]]

PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_OFFSET = 10_000  # page * per_page: pages are counted from the first, so deep pages cost reads
MAX_DELAY = 365 * 86400
MAX_NOTES = 100
MAX_TAGS = 50
MAX_BODY_BYTES = MAX_JSON_BYTES  # a body, JSON or form: 120 KB
MAX_FIELDS = 1_000  # a body's values: a response sent back whole (notes, tags, answers, the person) needs ~700
TOO_MANY_FIELDS = f"The body has more than {MAX_FIELDS:,} fields; the v1 API takes at most {MAX_FIELDS:,}."
PAGE_INFO = {"name": "page_info"}  # the cursor in a Link header's next URL (signed like the admin API's)
SMS = "Closeloop sends email only: SMS, web and in-app surveys are not supported."
RECORDED = "recorded"  # send_state of an answer posted through the API: nothing is ever mailed for it


def limit_rate(key: Key, now: float) -> None:
    """One call of this key in its window (CLOSELOOP_V1_RATE_LIMIT per CLOSELOOP_V1_RATE_WINDOW seconds);
    TooManyRequests past it, saying the limit and when to retry (`retry_after` seconds, the Retry-After header)."""
    calls, seconds = v1_rate_limit()
    try:
        ratelimit.check(key.digest, "v1", now, per=(calls, seconds))
    except TooManyRequests as exc:
        raise TooManyRequests(
            f"An API key may make {calls:,} calls in each window of {seconds:,} seconds, and this key has made them: "
            f"try again in {exc.retry_after:,} seconds (the Retry-After header).",
            exc.retry_after,
        ) from None


# ---- input -------------------------------------------------------------------------------------------


def body_of(raw: bytes | None, content_type: str) -> dict[str, Any]:
    """A JSON object (what the SDKs send) or a form (`properties[plan]=pro`, as curl -d and the PHP SDK send
    it), with one limit for both: MAX_BODY_BYTES and MAX_FIELDS values (a form's `name=value` pairs, a JSON
    body's values that are not objects or lists). PayloadTooLarge (413) past either, ValidationError (422)
    for a body that is not one, both naming the field `body` (or the form field sent two ways)."""
    size = len(raw or b"")
    if size > MAX_BODY_BYTES:
        raise PayloadTooLarge(
            f"The body is {size:,} bytes; the v1 API takes at most {MAX_BODY_BYTES:,} bytes, as JSON or as a form.",
            "body",
        )
    if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(
                (raw or b"").decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=MAX_FIELDS
            )
        except ValueError:
            raise PayloadTooLarge(TOO_MANY_FIELDS, "body") from None
        return _form(pairs)
    try:
        body = parse_json(raw)
    except ValidationError as exc:
        raise ValidationError(exc.message, exc.field or "body") from None
    if not isinstance(body, dict):
        raise ValidationError("Send a JSON object.", "body")
    if _values(body) > MAX_FIELDS:
        raise PayloadTooLarge(TOO_MANY_FIELDS, "body")
    return body


def _form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """`name=v`, `name[key]=v` (an object) and `name[]=v` (a list), as Rails and PHP read them."""
    fields: dict[str, Any] = {}
    for name, value in pairs:
        outer, _, inner = name.partition("[")
        if inner.count("[") or inner.count("]") > 1:
            raise ValidationError(
                f"{name[:60]} nests deeper than the v1 API reads a form: send {outer}[name]=value, or a JSON body.",
                outer,
            )
        if inner.endswith("]") and inner[:-1]:
            kind, key = dict, outer
        elif name.endswith("[]"):
            kind, key = list, name[:-2]
        else:
            kind, key = str, name
        found = fields.setdefault(key, value if kind is str else kind())
        if not isinstance(found, kind):
            raise ValidationError(f"{key} is sent as two of {key}, {key}[] and {key}[name]: send it one way.", key)
        if kind is str:
            fields[key] = value  # the last of a repeated name wins
        elif kind is dict:
            found[inner[:-1]] = value
        else:
            found.append(value)
    return fields


def _values(body: Any) -> int:
    """How many values that are not objects or lists a parsed JSON body holds (what a form's fields are)."""
    count, pending = 0, [body]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        else:
            count += 1
    return count


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    raise ValidationError(f"{name} is true or false.", name)


def _whole(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(f"{name} is a whole number from {low} to {high}.", name)
    return value


def _query_int(query: Mapping[str, str], name: str, default: int | None, low: int, high: int) -> int | None:
    raw = query.get(name)
    return default if raw in (None, "") else _whole(raw, name, low, high)


def _properties(value: Any, name: str) -> dict[str, Any]:
    """Delighted took any property names ("Purchase Experience"); ours are `purchase_experience`, as CSV
    headers become properties in an import."""
    if value in (None, ""):
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(f"{name} is an object of names to values.", name)
    cleaned = {imports.property_name(str(k)): v for k, v in value.items() if v is not None and v != ""}
    problem = contacts.properties_problem(cleaned)
    if problem:
        raise ValidationError(problem[1], f"{name}{problem[0]}")
    return cleaned


def _text(value: Any, name: str) -> Any:
    """A value that must be text when given: a number or a list is named as such (not "is required")."""
    if value is not None and not isinstance(value, str):
        kind = (
            "a list or an object"
            if isinstance(value, list | dict)
            else "true or false"
            if isinstance(value, bool)
            else "a number"
        )
        raise ValidationError(f"{name} is text, not {kind}.", name)
    return value


def _person_name(value: Any, name: str) -> str:
    """A person's name as it is stored (the `name` property), its refusal naming the field it came in."""
    try:
        return _properties({shapes.NAME: _text(value, name)}, name)[shapes.NAME]
    except ValidationError as exc:
        raise ValidationError(exc.message, name) from None


def _campaign(campaign_id: Any, field: str) -> CampaignView:
    if not isinstance(campaign_id, str) or not campaign_id:
        raise ValidationError("Name a campaign by its id.", field)
    try:
        return campaigns.get_view(campaign_id)
    except NotFound:
        raise ValidationError(f"No campaign {campaign_id[:60]!r}.", field) from None


def _chosen(key: Key, query: Mapping[str, str]) -> CampaignView:
    """The key's campaign, or the one `trend` names (Delighted's trends were subsets of a project)."""
    trend = query.get("trend")
    return _campaign(trend, "trend") if trend else _campaign(key.campaign_id, "campaign")


def _expand(values: Iterable[str]) -> frozenset[str]:
    wanted = frozenset(v for raw in values for v in raw.split(",") if v)
    unknown = wanted - {"person", "notes"}
    if unknown:
        raise ValidationError(f"expand takes person and notes, not {', '.join(sorted(unknown))}.", "expand")
    return wanted


def _time(query: Mapping[str, str], name: str) -> float | None:
    return _query_int(query, name, None, 0, 10**11)


def _span(query: Mapping[str, str]) -> tuple[float | None, float | None]:
    """`since` and `until` (epoch seconds, either absent); ValidationError (422) when since is after until."""
    since, until = _time(query, "since"), _time(query, "until")
    if since is not None and until is not None and since > until:
        raise ValidationError(f"since ({since}) is after until ({until}).", "since")
    return since, until


# ---- people ------------------------------------------------------------------------------------------


def _contact(email: str) -> Contact | None:
    try:
        return Contact.get(email, consistent_read=True)
    except Contact.DoesNotExist:
        return None


def _contacts(emails: Iterable[str]) -> dict[str, Contact]:
    wanted = list(dict.fromkeys(emails))
    return {c.email: c for c in Contact.batch_get(wanted)} if wanted else {}


def email_of_person(person_id: Any, field: str) -> str:
    """The address of a person by their v1 id (the contact id); ValidationError when there is none."""
    if not isinstance(person_id, str | int) or isinstance(person_id, bool) or not str(person_id):
        raise ValidationError("Name the person by their id.", field)
    found = next(iter(Contact.by_id.query(str(person_id), limit=1)), None)
    if found is None:
        raise ValidationError(f"No person {str(person_id)[:60]!r}.", field)
    return found.email


def create_person(key: Key, body: dict[str, Any], now: float) -> Answer:
    """POST /v1/people: create or update the contact and, unless `send` is false, schedule a survey in
    `delay` seconds on the key's campaign (or the `campaign` property's). Suppression, unsubscribes and
    the fatigue window apply when it is sent, as for any invitation."""
    if body.get("channel", "email") != "email" or (body.get("phone_number") and not body.get("email")):
        raise ValidationError(SMS, "channel" if body.get("channel", "email") != "email" else "phone_number")
    email = contacts.email_address(_text(body.get("email"), "email"), "email")
    properties = _properties(body.get("properties"), "properties")
    chosen = properties.pop("campaign", None)
    name = body.get("name")
    if name not in (None, ""):
        properties[shapes.NAME] = _person_name(name, "name")
    send = _flag(body.get("send", True), "send")
    delay = _whole(body.get("delay", 0), "delay", 0, MAX_DELAY)
    campaign = _campaign(chosen, "properties.campaign") if chosen else _campaign(key.campaign_id, "campaign")
    if send and campaign.status == "cancelled":
        raise ValidationError(f"The campaign {campaign.name!r} is cancelled: it sends nothing more.", "campaign")
    if send and campaign.status == "draft":
        raise ValidationError(
            f"The campaign {campaign.name!r} is a draft: send it (the dashboard's Send tab, or "
            "POST /api/campaigns/{id}/send) before its surveys can go out, or post with send=false.",
            "campaign",
        )
    bind()
    recipient = Recipient(email, properties)
    contacts.upsert(recipient, now)
    scheduled = schedule_survey(campaign, recipient, now, delay) if send else None
    contact = _contact(email)
    person = shapes.person_json(contact) if contact else {"id": None, "email": email}
    return 200, {**person, "survey_scheduled_at": shapes.seconds(scheduled)}, {}


def schedule_survey(campaign: CampaignView, recipient: Recipient, now: float, delay: int) -> float | None:
    """An invitation for one recipient, due in `delay` seconds; when it is due now and the campaign sends,
    it is queued at once. In a recurring campaign the recipient becomes a member (asked every N days, as
    an import does) and nothing new is made for a member with an invitation already. Returns when it is due."""
    settings = get_settings()
    active = campaign.status in campaigns.ACTIVE
    if campaign.kind == "recurring":
        imports.enrol(campaign.id, recipient.email, now)
        zone = schedule.valid_timezone(recipient.properties.get("timezone")) or campaign.timezone
        due = (now + delay if delay else schedule.weekday_morning(now, zone, recipient.email)) if active else None
        invitation = invitations.new_invitation(campaign, recipient, now, settings, due_at=due)
        return due if invitations.create(invitation) == "created" else None
    due = now + delay
    for attempt in range(3):  # a new round each time: Delighted scheduled a survey per request
        invitation = invitations.new_invitation(
            campaign, recipient, now, settings, round_=int(now * 1000) + attempt, due_at=due
        )
        if invitations.create(invitation) == "created":
            break
    if active and not delay:
        get_queue().send([{"kind": "send", "campaign_id": campaign.id, "ids": [invitation.id]}])
    return due


def list_people(key: Key, query: Mapping[str, str], url: str) -> Answer:
    """GET /v1/people: oldest first, `per_page` (1-100, 20), `since`/`until` (created, epoch seconds),
    `email`; the next page is in the Link header (rel="next"), as Delighted's cursor paging."""
    per_page = _query_int(query, "per_page", PER_PAGE, 1, MAX_PER_PAGE)
    since, until = _span(query)
    bind()
    if query.get("email"):
        contact = _contact(contacts.normalize_email(query["email"]))
        return 200, [shapes.person_json(contact)] if contact else [], {}
    low, high = since if since is not None else 0, until if until is not None else 10**11
    scope = admin_api.cursor_scope("v1 people", since, until)
    with _paging():
        found, after = one_page(
            Contact.all_contacts.query(
                contacts.LIST_PK,
                Contact.created_at.between(low, high),
                limit=per_page + 1,
                last_evaluated_key=admin_api.decode_cursor(dict(query), PAGE_INFO, scope),
            ),
            per_page,
        )
    people = [shapes.person_json(contact) for contact in found]
    return 200, people, _next_link(url, query, admin_api.encode_cursor(after, scope))


@contextmanager
def _paging() -> Iterator[None]:
    """A start key the store refuses (its second line, after the cursor's own scope) names `page_info`, the
    v1 API's parameter, not the admin API's `cursor`."""
    try:
        yield
    except CursorRefused:
        raise CursorRefused(PAGE_INFO["name"]) from None


def _next_link(url: str, query: Mapping[str, str], cursor: str | None) -> dict[str, str]:
    if not cursor:
        return {}
    params = {name: value for name, value in query.items() if name != PAGE_INFO["name"]}
    return {"Link": f'<{url}?{urlencode({**params, PAGE_INFO["name"]: cursor})}>; rel="next"'}


def delete_person(key: Key, ref: str, now: float) -> Answer:
    """DELETE /v1/people/{id} or /v1/people/email:{email}: the person and everything about them, in every
    table (chalicelib.privacy.deletion); their address stays suppressed as a hash. 202 {"ok": true}, as
    Delighted answered; 404 when nothing is known about them."""
    ref = ref.removesuffix(".json")
    kind, _, value = ref.partition(":")
    if kind == "phone_number":
        raise ValidationError(SMS, "phone_number")
    if value and kind != "email":
        raise NotFound(f"No person {ref[:60]!r}: name them by id or email:<address>.", "id")
    if ref.startswith("email:"):
        email = contacts.email_address(value, "email")  # `email:` with nothing after it: an address is required
    elif "@" in ref:
        raise NotFound(f"No person with the id {ref[:60]!r}: to name a person by address, use email:{ref[:60]}.", "id")
    else:
        bind()
        found = next(iter(Contact.by_id.query(ref, limit=1)), None)
        if found is None:
            raise NotFound(f"No person {ref[:60]!r}.", "id")
        email = found.email
    deletion.delete_person(email, actor=f"v1 API key {key.name}", now=now)
    return 202, {"ok": True}, {}


def cancel_pending(key: Key, email: str, now: float) -> Answer:
    """DELETE /v1/people/{email}/survey_requests/pending: every invitation not yet sent to this person, in
    every campaign, is skipped (reason `cancelled`), as Delighted cancelled a person's pending requests."""
    address = contacts.email_address(email, "person_email")
    bind()
    for found in Invitation.by_email.query(address):
        invitation = Invitation.get(found.id, consistent_read=True)
        if invitation.send_state == "pending":  # else, or claimed by a send meanwhile: it is on its way
            invitations.skip_pending(
                invitation.id, invitation.campaign_id, "cancelled:pending requests cancelled through the v1 API"
            )
    return 200, {"ok": True}, {}


# ---- survey responses --------------------------------------------------------------------------------


def _answered(ref: str) -> Invitation:
    bind()
    try:
        invitation = Invitation.get(ref, consistent_read=True)
    except Invitation.DoesNotExist:
        invitation = None
    if invitation is None or invitation.answered_at is None:
        raise NotFound(f"No survey response {ref[:60]!r}.", "id")
    return invitation


def _responses_json(found: list[Invitation], expand: frozenset[str]) -> list[dict[str, Any]]:
    people = _contacts(i.email for i in found)
    settings = get_settings()
    return [
        shapes.response_json(
            invitation,
            campaigns.get_campaign(invitation.campaign_id),
            people.get(invitation.email),
            expand,
            response_page(settings, invitation.id),
        )
        for invitation in found
    ]


def list_responses(key: Key, query: Mapping[str, str], expand: list[str]) -> Answer:
    """GET /v1/survey_responses: a campaign's answers by time answered (`order` asc or desc), filtered by
    since/until (answered), updated_since/updated_until, person_id, person_email; `page` and `per_page`."""
    campaign = _chosen(key, query)
    wanted = _expand(expand)
    per_page = _query_int(query, "per_page", PER_PAGE, 1, MAX_PER_PAGE)
    page = _query_int(query, "page", 1, 1, MAX_OFFSET)
    if page * per_page > MAX_OFFSET:
        raise ValidationError(f"page × per_page is at most {MAX_OFFSET}: narrow the range with since.", "page")
    order = query.get("order") or "asc"
    if order not in ("asc", "desc"):
        raise ValidationError("order is asc or desc.", "order")
    since, until = _span(query)
    condition = Invitation.answered_at.between(
        since if since is not None else 0, until if until is not None else 10**11
    )
    filters = []
    for name, attribute, bound in (
        ("updated_since", Invitation.updated_at, ">="),
        ("updated_until", Invitation.updated_at, "<="),
    ):
        value = _time(query, name)
        if value is not None:
            filters.append(attribute >= value if bound == ">=" else attribute <= value)
    bind()
    if query.get("person_email"):
        filters.append(Invitation.email == contacts.normalize_email(query["person_email"]))
    if query.get("person_id"):
        filters.append(Invitation.email == email_of_person(query["person_id"], "person_id"))
    combined = None
    for item in filters:
        combined = item if combined is None else combined & item
    skip, found = (page - 1) * per_page, []
    for invitation in Invitation.responses.query(
        campaign.id, condition, filter_condition=combined, scan_index_forward=order == "asc"
    ):
        if skip:
            skip -= 1
            continue
        found.append(invitation)
        if len(found) == per_page:
            break
    return 200, _responses_json(found, wanted), {}


def get_response(key: Key, ref: str, expand: list[str]) -> Answer:
    """GET /v1/survey_responses/{id}."""
    wanted = _expand(expand)
    return 200, _responses_json([_answered(ref)], wanted)[0], {}


def create_response(key: Key, body: dict[str, Any], now: float) -> Answer:
    """POST /v1/survey_responses: record a person's answer (`person` id, `score`, optional `comment` and
    `person_properties`, on top of the person's own) in the key's campaign without mailing them; counted,
    acknowledged by nobody. With `created_at` (epoch seconds or ISO 8601, in the past) it is history, as
    Delighted backfilled: answered then, counted in that week, announced to no alert and no webhook."""
    campaign = _campaign(key.campaign_id, "campaign")
    bind()
    email = email_of_person(body.get("person"), "person")
    question = history.scored_question(campaign)
    low, high = question.bounds or (0, 10)
    score = _whole(body.get("score"), "score", low, high)
    backfilled = body.get("created_at") is not None
    try:
        at = history.moment(body["created_at"], "created_at", now) if backfilled else now
    except history.RowError as error:
        raise ValidationError(error.message, "created_at") from None
    comment, box_answer = _comment(body.get("comment"), campaign)
    given = _properties(body.get("person_properties"), "person_properties")
    contact = _contact(email)
    properties = {**(counters.plain(contact.properties) if contact else {}), **given}
    properties.pop(shapes.NAME, None)
    answers: dict[str, Any] = {question.id: score, **box_answer}
    score_of, category = (score, counters.category(score)) if question.type == "nps" else (score, None)
    settings = get_settings()
    for attempt in range(3):
        invitation = invitations.new_invitation(
            campaign, Recipient(email, properties), at, settings, round_=int(now * 1000) + attempt
        )
        invitation.send_state = RECORDED
        invitation.answers = answers
        invitation.score = score_of
        invitation.category = category
        invitation.comment = comment or None
        invitation.answered_at = invitation.updated_at = at
        invitation.evidence = "api"
        invitation.answer_version = 1
        if backfilled:  # old news: already announced, so the applier raises no alert and calls no webhook
            invitation.event_version = 1
        invitation.responded_campaign = campaign.id
        invitation.loop_status = NEW_CASE
        invitation.ack_state = "skipped"
        invitation.ack_error = "recorded through the v1 API: no acknowledgement"
        if invitations.create(invitation) == "created":
            break
    if backfilled:  # the campaign's trends and digests cover the weeks it happened in
        campaigns.backdate_first_send(campaign.id, at)
    return 200, _responses_json([_answered(invitation.id)], frozenset())[0], {}


def update_response(key: Key, ref: str, body: dict[str, Any], now: float) -> Answer:
    """PUT /v1/survey_responses/{id}: `person_properties` (merged; a campaign's segment properties keep
    their values, since counts are kept per value), `notes` (new ones appended: text, or {text}), `tags`
    (replaced), `score`, `comment`. The other fields of a response sent back by an SDK are ignored."""
    invitation = _answered(ref.removesuffix(".json"))
    campaign = campaigns.get_view(invitation.campaign_id)
    actions: list = [Invitation.updated_at.set(now)]
    counted = False
    if "person_properties" in body:
        properties = _properties(body["person_properties"], "person_properties")
        old = counters.plain(invitation.properties)
        for name, value in properties.items():
            if name in campaign.segments and old.get(name) != value:
                raise ValidationError(
                    f"{name} is a segment of this campaign, counted by value: it cannot change once answered"
                    + (f" (it is “{old[name]}”)." if old.get(name) not in (None, "") else " (it was not given)."),
                    f"person_properties.{name}",
                )
            actions.append(Invitation.properties[name].set(value))
    if "notes" in body:
        actions += _new_notes(invitation, body["notes"], key, now)
    if "tags" in body:
        tags = body["tags"]
        if not isinstance(tags, list) or len(tags) > MAX_TAGS or not all(isinstance(t, str) and t for t in tags):
            raise ValidationError(f"tags is a list of at most {MAX_TAGS} texts.", "tags")
        actions.append(Invitation.tags.set(list(dict.fromkeys(tags))))
    if body.get("score") is not None and body["score"] != invitation.score:
        question = history.scored_question(campaign)
        low, high = question.bounds or (0, 10)
        score = _whole(body["score"], "score", low, high)
        actions += [Invitation.answers[question.id].set(score), Invitation.score.set(score)]
        if question.type == "nps":
            actions.append(Invitation.category.set(counters.category(score)))
        counted = True
    if "comment" in body:
        comment, box_answer = _comment(body["comment"], campaign)
        if comment != shapes.comment_of(invitation, campaign):
            actions.append(Invitation.comment.set(comment) if comment else Invitation.comment.remove())
            box = campaign.survey.comment_question
            if box is not None:  # its answer is the comment, as a survey submission keeps it
                answer = Invitation.answers[box.id]
                actions.append(answer.set(box_answer[box.id]) if box_answer else answer.remove())
            counted = True
    if counted:
        actions += [Invitation.answer_version.add(1), *count_pending.changed(invitation.id)]
    update(Invitation, invitation.id, actions)
    return 200, _responses_json([_answered(invitation.id)], frozenset({"notes"}))[0], {}


def _comment(value: Any, campaign: CampaignView) -> tuple[str | None, dict[str, Any]]:
    """A comment as the survey form takes it, and the answer it gives the survey's text question ({} when the
    survey has none or the comment is empty). The form's limit: MAX_COMMENT characters, or MAX_TEXT where a
    text question holds the comment; control characters dropped. ValidationError (422) naming `comment`."""
    text = surveys.written(_text(value, "comment") or "")
    box = campaign.survey.comment_question
    limit = surveys.MAX_COMMENT if box is None else surveys.MAX_TEXT
    if len(text) > limit:
        where = "" if box is None else f", the answer to “{box.text[:60]}” in this survey"
        raise ValidationError(
            f"A comment has at most {limit:,} characters{where} (this one has {len(text):,}).", "comment"
        )
    if box is None or not text:
        return text or None, {}
    return text, {box.id: box.parse([text])}


def _new_notes(invitation: Invitation, notes: Any, key: Key, now: float) -> list:
    if not isinstance(notes, list):
        raise ValidationError("notes is a list of texts or of {text}.", "notes")
    known = {shapes.note_json(n)["id"] for n in invitation.notes or []}
    added = []
    for index, note in enumerate(notes):
        if isinstance(note, Mapping) and note.get("id") in known:
            continue
        text = note.get("text") if isinstance(note, Mapping) else note
        if not isinstance(text, str) or not text.strip() or len(text) > 2000:
            raise ValidationError("A note is a text of 1 to 2000 characters.", f"notes[{index}]")
        added.append({"id": new_id(8), "text": text, "user_email": f"v1 API key {key.name}", "created_at": now})
    if len(known) + len(added) > MAX_NOTES:
        raise ValidationError(f"At most {MAX_NOTES} notes per response.", "notes")
    return [Invitation.notes.set([*(invitation.notes or []), *added])] if added else []


# ---- metrics -----------------------------------------------------------------------------------------


def metrics(key: Key, query: Mapping[str, str]) -> Answer:
    """GET /v1/metrics: NPS and its categories of a campaign's answers, all time or answered from `since`
    to `until` (epoch seconds), computed by chalicelib.core.nps."""
    campaign = _chosen(key, query)
    since, until = _span(query)
    bind()
    if since is None and until is None:
        totals = stats.totals(campaign.id)
        tally = {c: totals.get(counters.CATEGORY_COUNTERS[c], 0) for c in counters.CATEGORIES}
    else:
        tally = reports.categories_between(campaign, since or 0, until if until is not None else 10**11)
    summary = nps.summary(tally[counters.PROMOTER], tally[counters.PASSIVE], tally[counters.DETRACTOR])
    return 200, _metrics_json(summary), {}


def _metrics_json(summary: nps.NpsSummary) -> dict[str, Any]:
    def percent(share: float | None) -> float:
        return round(100 * share, 2) if share is not None else 0.0

    return {
        "nps": nps.whole_points(summary.nps) if summary.nps is not None else 0,
        "promoter_count": summary.promoters,
        "promoter_percent": percent(summary.promoter_share),
        "passive_count": summary.passives,
        "passive_percent": percent(summary.passive_share),
        "detractor_count": summary.detractors,
        "detractor_percent": percent(summary.detractor_share),
        "response_count": summary.n,
    }


# ---- unsubscribes and bounces ------------------------------------------------------------------------


def _suppressed(reason: str, stamp: str, query: Mapping[str, str]) -> Answer:
    per_page = _query_int(query, "per_page", PER_PAGE, 1, MAX_PER_PAGE)
    page = _query_int(query, "page", 1, 1, MAX_OFFSET)
    if page * per_page > MAX_OFFSET:
        raise ValidationError(f"page × per_page is at most {MAX_OFFSET}.", "page")
    since, until = _span(query)
    condition = Suppression.reason == reason
    if since is not None:
        condition = condition & (Suppression.created_at >= since)
    if until is not None:
        condition = condition & (Suppression.created_at <= until)
    bind()
    skip, found = (page - 1) * per_page, []
    for item in Suppression.by_address.query(suppression.LIST_PK, filter_condition=condition):
        if skip:
            skip -= 1
            continue
        found.append(item)
        if len(found) == per_page:
            break
    people = _contacts(item.email for item in found)
    rows = []
    for item in found:
        person = people.get(item.email)
        rows.append(
            {
                "person_id": person.id if person else None,
                "email": item.email,
                "name": counters.plain(person.properties).get(shapes.NAME) if person else None,
                stamp: shapes.seconds(item.created_at),
            }
        )
    return 200, rows, {}


def list_unsubscribes(key: Key, query: Mapping[str, str]) -> Answer:
    """GET /v1/unsubscribes: [{person_id, email, name, unsubscribed_at}], by address; page, per_page,
    since, until."""
    return _suppressed("unsubscribed", "unsubscribed_at", query)


def list_bounces(key: Key, query: Mapping[str, str]) -> Answer:
    """GET /v1/bounces: [{person_id, email, name, bounced_at}], by address; page, per_page, since, until."""
    return _suppressed("bounced", "bounced_at", query)


def unsubscribe(key: Key, body: dict[str, Any], now: float) -> Answer:
    """POST /v1/unsubscribes {person_email}: never mailed again, by any campaign (the first reason is kept)."""
    email = contacts.email_address(body.get("person_email"), "person_email")
    suppression.suppress(email, "unsubscribed", now, "admin", added_by=f"v1 API key {key.name}")
    return 200, {"ok": True}, {}


# ---- Autopilot: the key's campaign, when it is recurring ----------------------------------------------


def _autopilot(key: Key, platform: str) -> CampaignView:
    platform = platform.removesuffix(".json")
    if platform == "sms":
        raise ValidationError(SMS, "platform")
    if platform != "email":
        raise NotFound(f"No Autopilot platform {platform[:20]!r}: use email.", "platform")
    campaign = _campaign(key.campaign_id, "campaign")
    if campaign.kind != "recurring":
        raise NotFound(
            "Autopilot is a recurring campaign: this key's campaign is one-off. Mint a key for a recurring one.",
            "campaign",
        )
    return campaign


def autopilot(key: Key, platform: str) -> Answer:
    """GET /v1/autopilot/email: {platform_id, active, frequency (seconds), created_at, updated_at}."""
    campaign = _autopilot(key, platform)
    model = campaigns.load_campaign(campaign.id)
    return (
        200,
        {
            "platform_id": "email",
            "active": campaign.status in campaigns.ACTIVE,
            "frequency": int((campaign.interval_days or 90) * 86400),
            "created_at": shapes.seconds(model.created_at),
            "updated_at": shapes.seconds(model.updated_at),
        },
        {},
    )


def add_membership(key: Key, platform: str, body: dict[str, Any], now: float) -> Answer:
    """POST /v1/autopilot/email/memberships {person_email, person_name, properties}: the person becomes a
    member of the recurring campaign, asked every N days from their next weekday morning."""
    campaign = _autopilot(key, platform)
    email = contacts.email_address(body.get("person_email"), "person_email")
    properties = _properties(body.get("properties"), "properties")
    if body.get("person_name") not in (None, ""):
        properties[shapes.NAME] = _person_name(body["person_name"], "person_name")
    bind()
    recipient = Recipient(email, properties)
    contacts.upsert(recipient, now)
    schedule_survey(campaign, recipient, now, 0)
    contact = _contact(email)
    return 200, {"person": shapes.person_json(contact), "properties": counters.plain(contact.properties)}, {}


def list_memberships(key: Key, platform: str, query: Mapping[str, str], url: str) -> Answer:
    """GET /v1/autopilot/email/memberships: [{created_at, updated_at, person, next_survey_request}],
    `per_page`, `person_email`; the next page in the Link header."""
    campaign = _autopilot(key, platform)
    per_page = _query_int(query, "per_page", PER_PAGE, 1, MAX_PER_PAGE)
    bind()
    if query.get("person_email"):
        email = contacts.normalize_email(query["person_email"])
        members = [m for m in Member.query(campaign.id, Member.email == email) if m.removed_at is None]
        cursor = None
    else:
        scope = admin_api.cursor_scope("v1 memberships", campaign.id)
        with _paging():
            page = Member.query(
                campaign.id,
                filter_condition=Member.removed_at.does_not_exist(),
                limit=per_page,
                last_evaluated_key=admin_api.decode_cursor(dict(query), PAGE_INFO, scope),
            )
            members = list(page)
        cursor = admin_api.encode_cursor(page.last_evaluated_key, scope)
    people = _contacts(m.email for m in members)
    rows = []
    for member in members:
        person = people.get(member.email)
        rows.append(
            {
                "created_at": shapes.seconds(member.added_at),
                "updated_at": shapes.seconds(member.added_at),
                "person": shapes.person_json(person) if person else {"id": None, "email": member.email},
                "next_survey_request": _next_request(campaign.id, member.email),
            }
        )
    return 200, rows, _next_link(url, query, cursor)


def _next_request(campaign_id: str, email: str) -> dict[str, Any] | None:
    for key in Invitation.by_email.query(email, scan_index_forward=False):
        invitation = Invitation.get(key.id)
        if invitation.campaign_id == campaign_id and invitation.send_state == "pending":
            return {
                "id": invitation.id,
                "created_at": shapes.seconds(invitation.created_at),
                "survey_scheduled_at": shapes.seconds(invitation.send_due_at),
                "properties": counters.plain(invitation.properties),
            }
    return None


def remove_membership(key: Key, platform: str, body: dict[str, Any], now: float) -> Answer:
    """DELETE /v1/autopilot/email/memberships {person_email}: no longer asked; unsent rounds cancelled."""
    campaign = _autopilot(key, platform)
    email = contacts.email_address(body.get("person_email"), "person_email")
    admin_api.remove_member(campaign.id, email, now)
    contact = _contact(email)
    return 200, {"person": shapes.person_json(contact) if contact else {"id": None, "email": email}}, {}
