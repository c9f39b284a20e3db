"""Closeloop's HTTP routes, queue and topic handlers, and scheduled functions: parse, call chalicelib, return."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import unquote

from chalice import Chalice, Rate, Response
from chalice.app import Request

from chalicelib.answers import survey_pages
from chalicelib.campaigns import suppression
from chalicelib.core.config import get_settings
from chalicelib.core.errors import CloseloopError, NotFound, TooManyRequests, ValidationError
from chalicelib.core.lazy import OnFirstUse
from chalicelib.dashboard import (
    access,
    builder,
    builder_languages,
    builder_options,
    insight_pages,
    loop_pages,
    recipient_pages,
    send_pages,
    settings_pages,
    web,
)
from chalicelib.queue import get_queue
from chalicelib.web import Reply, parse_form, parse_json, render

api = OnFirstUse("chalicelib.admin.api")  # cold start: the admin API's use cases, off the answer path
auth = OnFirstUse("chalicelib.admin.auth")  # cold start: tokens and rate limits, admin routes only
openapi = OnFirstUse("chalicelib.admin.openapi")  # cold start: the API document, built on request
delighted_history = OnFirstUse("chalicelib.delighted.history_import")  # cold start: history imports only
counting = OnFirstUse("chalicelib.answers.counting")  # cold start: the counting schedule's own Lambda
digest = OnFirstUse("chalicelib.insight.digest")  # cold start: the hourly digest schedule only
digest_recipients = OnFirstUse("chalicelib.insight.digest_recipients")  # cold start: digest links only
followups = OnFirstUse("chalicelib.loop.followups")  # cold start: the acknowledge schedule only
work = OnFirstUse("chalicelib.runtime.work")  # cold start: the work queue's Lambda only
delivery = OnFirstUse("chalicelib.sending.delivery")  # cold start: the dispatch schedule only
outbox = OnFirstUse("chalicelib.web.outbox")  # cold start: the local stage's outbox pages (email parser)
gallery = OnFirstUse("chalicelib.dashboard.gallery")  # cold start: the local stage's preview in a language
retention = OnFirstUse("chalicelib.privacy.retention")  # cold start: the daily retention schedule only
v1 = OnFirstUse("chalicelib.delighted.v1")  # cold start: Delighted's v1 API, its routes only
v1_keys = OnFirstUse("chalicelib.delighted.keys")  # cold start: the v1 API's keys, its routes only
v1_shapes = OnFirstUse("chalicelib.delighted.shapes")  # cold start: the v1 API's error bodies, its routes only

app = Chalice(app_name="closeloop")
# API Gateway hands a body it does not know as binary to Lambda as UTF-8 text, so an uploaded Windows-1252
# or UTF-16 CSV would arrive mangled; as a binary type it arrives as sent (chalice decodes it). Never a
# response's type, so no answer is base64-encoded.
app.api.binary_types.append("multipart/form-data")
FORM = ["application/x-www-form-urlencoded"]
ONE_CLICK = ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"]
IMPORTS = ["application/json", "text/csv", "multipart/form-data"]
V1_BODIES = ["application/json", "application/x-www-form-urlencoded"]
V1_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _send(reply: Reply) -> Response:
    return Response(body=reply.body, status_code=reply.status, headers=reply.headers)


def _one_click(change: Callable[..., Reply], token: str) -> Response:
    """RFC 8058 one-click POSTs: the raw body and its content type decide, no cookie or CSRF token."""
    request = app.current_request
    return _send(change(token, request.raw_body, request.headers.get("content-type", ""), time.time()))


def _json(status: int, body: dict, headers: dict | None = None) -> Response:
    return Response(body=body, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})


@app.middleware("http")
def chalice_errors_as_ours(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """Chalice answers some requests before any view (415 for a content type a route does not take,
    405, and 500 for an uncaught exception) as {"Code", "Message"}: give them our JSON error shape (the
    v1 API's on its paths), or the dashboard's error page on a dashboard path. API Gateway answers a
    method no route of a path takes itself (403), before the Lambda runs; `chalice local` sends it here."""
    response = get_response(request)
    body = response.body
    if not (isinstance(body, dict) and set(body) == {"Code", "Message"}):
        return response
    if request.context.get("resourcePath", "").startswith("/dashboard"):
        return web.refused_before_view(response.status_code, body["Message"])
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
    if request.context.get("resourcePath", "").startswith("/v1/"):
        error = _api_error(request, response.status_code, body["Message"])
        return _json(response.status_code, v1_shapes.error_body(response.status_code, **error), headers)
    return _json(response.status_code, {"error": _api_error(request, response.status_code, body["Message"])}, headers)


def _api_error(request: Request, status: int, message: str) -> dict[str, str]:
    if status == 415:
        entry = app.routes[request.context["resourcePath"]][request.method]
        got = request.headers.get("content-type") or "no content type"
        return {"message": f"Send the body as {' or '.join(entry.content_types)}, not {got}.", "field": "Content-Type"}
    if status == 405:
        allowed = ", ".join(app.routes[request.context["resourcePath"]])
        return {"message": f"{request.context['resourcePath']} takes {allowed}, not {request.method}."}
    if status >= 500:
        return {"message": "An internal error occurred; it is logged."}
    return {"message": message}


def _checked_path(params: dict[str, str]) -> dict[str, str]:
    """Ids and addresses in a path are printable text that fits a DynamoDB key; anything else names nothing."""
    for name, value in params.items():
        if len(value) > 320 or not value.isprintable() or "\ufffd" in value:
            raise NotFound(f"No {name.removesuffix('_id').replace('_', ' ')} {value[:60]!r}.", name)
    return params


def api_route(path: str, **kwargs):
    """An admin API route: bearer token required; domain errors become JSON naming the field at fault. Path
    values come percent-decoded (API Gateway passes them as sent: `%40`, `%27`)."""

    def register(view):
        def guarded(**params):
            try:
                caller = auth.authenticate(app.current_request.headers)
                return _json(*view(caller, **{k: unquote(v) for k, v in _checked_path(params).items()}))
            except TooManyRequests as exc:
                return _json(exc.status, exc.to_json(), {"Retry-After": str(exc.retry_after)})
            except CloseloopError as exc:
                return _json(exc.status, exc.to_json())

        guarded.__name__, guarded.__doc__ = view.__name__, view.__doc__
        return app.route(path, **kwargs)(guarded)

    return register


def v1_route(*paths: str, **kwargs):
    """A route of Delighted's v1 API, under each of `paths` (the SDKs call /v1/people, curl examples
    /v1/people.json): the API key as HTTP Basic user name, a rate window per key, Delighted's error body."""

    def register(view):
        def guarded(**params):
            request = app.current_request
            try:
                key = v1_keys.authenticate(request.headers)
                v1.limit_rate(key, time.time())
                status, body, headers = view(key, **{k: unquote(v) for k, v in _checked_path(params).items()})
                return _json(status, body, headers)
            except TooManyRequests as exc:
                return _json(429, v1_shapes.error_json(exc), {"Retry-After": str(exc.retry_after)})
            except CloseloopError as exc:
                challenge = {"WWW-Authenticate": 'Basic realm="Closeloop v1 API"'} if exc.status == 401 else {}
                return _json(v1_shapes.v1_status(exc), v1_shapes.error_json(exc), challenge)

        guarded.__name__, guarded.__doc__ = view.__name__, view.__doc__
        for path in paths:
            app.route(path, **kwargs)(guarded)
        return guarded

    return register


def _v1_body() -> dict:
    request = app.current_request
    return v1.body_of(request.raw_body, request.headers.get("content-type", ""))


def _v1_url() -> str:
    """The URL this request came to, without its query: where a Link header's next page is."""
    return get_settings().base_url + app.current_request.context.get("resourcePath", "")


def _expand() -> list[str]:
    params = app.current_request.query_params
    return [value for name in ("expand[]", "expand") if params and name in params for value in params.getlist(name)]


def _body() -> object:
    return parse_json(app.current_request.raw_body)


def _no_body() -> None:
    """An action that takes no input still refuses a body it cannot read, so a broken request never
    runs an action that cannot be undone (cancel): nothing, or the JSON object `{}`."""
    if (app.current_request.raw_body or b"").strip() and _body() != {}:
        raise ValidationError("This action takes no input: send no body, or {}.", "body")


def _query() -> dict:
    query = dict(app.current_request.query_params or {})
    for name, value in query.items():
        if not (name + value).isprintable() or "\ufffd" in name + value:
            raise ValidationError(f"{name[:60]!r} holds a control character or bytes that are not UTF-8.", name[:60])
    return query


@app.route("/")
def home():
    if get_settings().is_local:
        return Response(body="", status_code=302, headers={"Location": "/dev/outbox"})
    return {"service": "closeloop"}


@app.route("/favicon.ico")
def favicon():
    return Response(body="", status_code=204, headers={"Cache-Control": "public, max-age=86400"})


@app.route("/static/{name}")
def static_asset(name):
    if name not in render.ASSETS:
        return Response(body="", status_code=404)
    return Response(body=render.asset(name)[0], status_code=200, headers=render.asset_headers(name))


@app.route("/s/{token}", methods=["GET"])
def survey_page(token):
    return _send(survey_pages.show(token, app.current_request.query_params, time.time()))


@app.route("/s/{token}", methods=["POST"], content_types=FORM)
def survey_submit(token):
    request = app.current_request
    form = parse_form(request.raw_body, survey_pages.ANSWER_FORM_BYTES, survey_pages.ANSWER_FORM_FIELDS)
    return _send(survey_pages.submit(token, form, request.headers, time.time(), request.query_params))


@app.route("/s/{token}/t", methods=["GET"])
def scanner_trap(token):
    return _send(survey_pages.trap(token, time.time()))


@app.route("/u/{token}", methods=["GET"])
def unsubscribe_page(token):
    return _send(survey_pages.unsubscribe_page(token, time.time()))


@app.route("/u/{token}", methods=["POST"], content_types=ONE_CLICK)
def unsubscribe(token):
    return _one_click(survey_pages.unsubscribe, token)


@app.route("/digest/{token}", methods=["GET"])
def digest_preferences(token):
    return _send(digest_recipients.show(token, time.time()))


@app.route("/digest/{token}", methods=["POST"], content_types=ONE_CLICK)
def digest_preferences_change(token):
    return _one_click(digest_recipients.change, token)


@app.route("/dev/outbox")
def dev_outbox():
    return _send(outbox.listing())


@app.route("/dev/outbox/{name}")
def dev_outbox_message(name):
    return _send(outbox.show(name))


@app.route("/dev/preview")
def dev_preview():
    return _send(gallery.index())


@app.route("/dev/preview/{campaign_id}/{locale}")
def dev_preview_gallery(campaign_id, locale):
    return _send(gallery.gallery(campaign_id, locale, app.current_request.query_params, time.time()))


@app.route("/dev/preview/{campaign_id}/{locale}/{name}")
def dev_preview_document(campaign_id, locale, name):
    return _send(gallery.document(campaign_id, locale, name, app.current_request.query_params, time.time()))


@app.route("/api/openapi.json")
def openapi_document():
    return _json(200, openapi.document(get_settings().base_url))


@api_route("/api/campaigns", methods=["POST"])
def create_campaign(caller):
    return api.create_campaign(_body(), time.time(), caller)


@api_route("/api/campaigns", methods=["GET"])
def list_campaigns(caller):
    return api.list_campaigns(_query())


@api_route("/api/campaigns/{campaign_id}", methods=["GET"])
def get_campaign(caller, campaign_id):
    return api.get_campaign(campaign_id)


@api_route("/api/campaigns/{campaign_id}", methods=["PATCH"])
def update_campaign(caller, campaign_id):
    return api.update_campaign(campaign_id, _body(), time.time())


@api_route("/api/campaigns/{campaign_id}/recipients", methods=["POST"], content_types=IMPORTS)
def import_recipients(caller, campaign_id):
    request = app.current_request
    content_type = request.headers.get("content-type", "")
    return api.import_recipients(campaign_id, content_type, request.raw_body, time.time(), caller)


@api_route("/api/campaigns/{campaign_id}/imports/delighted", methods=["POST"], content_types=IMPORTS)
def import_delighted(caller, campaign_id):
    request = app.current_request
    content_type = request.headers.get("content-type", "")
    return delighted_history.import_request(campaign_id, content_type, request.raw_body, _query(), time.time(), caller)


@api_route("/api/campaigns/{campaign_id}/imports/{import_id}", methods=["GET"])
def import_status(caller, campaign_id, import_id):
    return api.import_status(campaign_id, import_id)


@api_route("/api/campaigns/{campaign_id}/imports/{import_id}/rejected.csv", methods=["GET"])
def rejected_csv(caller, campaign_id, import_id):
    return api.rejected_csv(campaign_id, import_id)


@api_route("/api/campaigns/{campaign_id}/members/{email}", methods=["DELETE"])
def remove_member(caller, campaign_id, email):
    return api.remove_member(campaign_id, email, time.time())


@api_route("/api/campaigns/{campaign_id}/send", methods=["POST"])
def send_campaign(caller, campaign_id):
    return api.send_campaign(campaign_id, _body(), time.time(), caller)


@api_route("/api/campaigns/{campaign_id}/pause", methods=["POST"])
def pause_campaign(caller, campaign_id):
    _no_body()
    return api.change_state(campaign_id, "pause", time.time())


@api_route("/api/campaigns/{campaign_id}/resume", methods=["POST"])
def resume_campaign(caller, campaign_id):
    _no_body()
    return api.change_state(campaign_id, "resume", time.time())


@api_route("/api/campaigns/{campaign_id}/unschedule", methods=["POST"])
def unschedule_campaign(caller, campaign_id):
    _no_body()
    return api.change_state(campaign_id, "unschedule", time.time())


@api_route("/api/campaigns/{campaign_id}/cancel", methods=["POST"])
def cancel_campaign(caller, campaign_id):
    _no_body()
    return api.change_state(campaign_id, "cancel", time.time())


@api_route("/api/campaigns/{campaign_id}/preview", methods=["POST"])
def preview_invitation(caller, campaign_id):
    return api.preview(campaign_id, _body(), time.time(), caller)


@api_route("/api/campaigns/{campaign_id}/stats", methods=["GET"])
def campaign_stats(caller, campaign_id):
    return api.campaign_stats(campaign_id)


@api_route("/api/campaigns/{campaign_id}/skipped", methods=["GET"])
def skipped_recipients(caller, campaign_id):
    return api.skipped(campaign_id, _query())


@api_route("/api/campaigns/{campaign_id}/resend-failed", methods=["POST"])
def resend_failed(caller, campaign_id):
    _no_body()
    return api.resend_failed(campaign_id, time.time(), caller)


@api_route("/api/campaigns/{campaign_id}/responses", methods=["GET"])
def list_responses(caller, campaign_id):
    return api.list_responses(campaign_id, _query())


@api_route("/api/campaigns/{campaign_id}/loop", methods=["GET"])
def loop_report(caller, campaign_id):
    return api.loop_report(campaign_id, time.time())


@api_route("/api/responses/{response_id}", methods=["GET"])
def get_response(caller, response_id):
    return api.get_response(response_id)


@api_route("/api/responses/{response_id}/loop", methods=["POST"])
def set_loop(caller, response_id):
    return api.set_loop(response_id, _body(), caller, time.time())


@api_route("/api/campaigns/{campaign_id}/digest-recipients", methods=["GET"])
def list_digest_recipients(caller, campaign_id):
    return api.list_digest_recipients(campaign_id)


@api_route("/api/campaigns/{campaign_id}/digest-recipients", methods=["PUT"])
def set_digest_recipients(caller, campaign_id):
    return api.set_digest_recipients(campaign_id, _body(), time.time())


@api_route("/api/suppression", methods=["GET"])
def search_suppressions(caller):
    return api.search_suppressions(_query())


@api_route("/api/suppression", methods=["POST"])
def add_suppression(caller):
    return api.add_suppression(_body(), time.time(), caller)


@api_route("/api/suppression/{email}", methods=["GET"])
def get_suppression(caller, email):
    return api.get_suppression(email)


@api_route("/api/people/{email}", methods=["DELETE"])
def delete_person(caller, email):
    return api.delete_person(email, caller, time.time())


@api_route("/api/campaigns/{campaign_id}/metrics", methods=["GET"])
def campaign_metrics(caller, campaign_id):
    return api.metrics(campaign_id, _query(), time.time())


@api_route("/api/campaigns/{campaign_id}/trend", methods=["GET"])
def campaign_trend(caller, campaign_id):
    return api.trend(campaign_id, _query(), time.time())


@api_route("/api/campaigns/{campaign_id}/responses.csv", methods=["GET"])
def responses_csv(caller, campaign_id):
    return api.responses_csv(campaign_id, _query())


@api_route("/api/campaigns/{campaign_id}/held", methods=["GET"])
def list_held(caller, campaign_id):
    return api.list_held(campaign_id, _query())


@api_route("/api/held/{invitation_id}/accept", methods=["POST"])
def accept_held(caller, invitation_id):
    _no_body()
    return api.decide_held(invitation_id, "accept", caller, time.time())


@api_route("/api/held/{invitation_id}/dismiss", methods=["POST"])
def dismiss_held(caller, invitation_id):
    _no_body()
    return api.decide_held(invitation_id, "dismiss", caller, time.time())


@v1_route("/v1/people", "/v1/people.json", methods=["POST"], content_types=V1_BODIES)
def v1_create_person(key):
    return v1.create_person(key, _v1_body(), time.time())


@v1_route("/v1/people", "/v1/people.json", methods=["GET"])
def v1_list_people(key):
    return v1.list_people(key, _query(), _v1_url())


@v1_route("/v1/people/{person}", methods=["DELETE"], content_types=V1_BODIES)
def v1_delete_person(key, person):
    return v1.delete_person(key, person, time.time())


@v1_route(
    "/v1/people/{person}/survey_requests/pending",
    "/v1/people/{person}/survey_requests/pending.json",
    methods=["DELETE"],
    content_types=V1_BODIES,
)
def v1_cancel_pending(key, person):
    return v1.cancel_pending(key, person, time.time())


@v1_route("/v1/survey_responses", "/v1/survey_responses.json", methods=["GET"])
def v1_list_responses(key):
    return v1.list_responses(key, _query(), _expand())


@v1_route("/v1/survey_responses", "/v1/survey_responses.json", methods=["POST"], content_types=V1_BODIES)
def v1_create_response(key):
    return v1.create_response(key, _v1_body(), time.time())


@v1_route("/v1/survey_responses/{response_id}", methods=["GET"])
def v1_get_response(key, response_id):
    return v1.get_response(key, response_id.removesuffix(".json"), _expand())


@v1_route("/v1/survey_responses/{response_id}", methods=["PUT"], content_types=V1_BODIES)
def v1_update_response(key, response_id):
    return v1.update_response(key, response_id, _v1_body(), time.time())


@v1_route("/v1/metrics", "/v1/metrics.json", methods=["GET"])
def v1_metrics(key):
    return v1.metrics(key, _query())


@v1_route("/v1/unsubscribes", "/v1/unsubscribes.json", methods=["GET"])
def v1_list_unsubscribes(key):
    return v1.list_unsubscribes(key, _query())


@v1_route("/v1/unsubscribes", "/v1/unsubscribes.json", methods=["POST"], content_types=V1_BODIES)
def v1_unsubscribe(key):
    return v1.unsubscribe(key, _v1_body(), time.time())


@v1_route("/v1/bounces", "/v1/bounces.json", methods=["GET"])
def v1_list_bounces(key):
    return v1.list_bounces(key, _query())


@v1_route("/v1/autopilot/{platform}", methods=["GET"])
def v1_autopilot(key, platform):
    return v1.autopilot(key, platform)


MEMBERSHIPS = ("/v1/autopilot/{platform}/memberships", "/v1/autopilot/{platform}/memberships.json")


@v1_route(*MEMBERSHIPS, methods=["POST"], content_types=V1_BODIES)
def v1_add_membership(key, platform):
    return v1.add_membership(key, platform, _v1_body(), time.time())


@v1_route(*MEMBERSHIPS, methods=["GET"])
def v1_list_memberships(key, platform):
    return v1.list_memberships(key, platform, _query(), _v1_url().replace("{platform}", platform))


@v1_route(*MEMBERSHIPS, methods=["DELETE"], content_types=V1_BODIES)
def v1_remove_membership(key, platform):
    return v1.remove_membership(key, platform, _v1_body(), time.time())


@app.route("/v1", methods=V1_METHODS, content_types=["*/*"])
@app.route("/v1/{proxy+}", methods=V1_METHODS, content_types=["*/*"])
def v1_unknown():
    """No v1 route has this path: a 404 in the v1 shape, for any key or none. API Gateway sends here every path
    under /v1/ that no route has (real routes are more specific); `chalice local` only a path one segment deep."""
    params = app.current_request.uri_params or {}
    rest = unquote(params.get("proxy") or params.get("proxy+") or "")  # API Gateway's name for it; chalice local's
    return _json(404, v1_shapes.error_body(404, f"The v1 API has no route /v1/{rest[:100]}".rstrip("/") + "."))


app.register_blueprint(access.routes)
app.register_blueprint(loop_pages.routes)
app.register_blueprint(insight_pages.routes)
app.register_blueprint(settings_pages.routes)
app.register_blueprint(builder_options.routes)
app.register_blueprint(send_pages.routes)
app.register_blueprint(builder.routes)
app.register_blueprint(builder_languages.routes)
app.register_blueprint(recipient_pages.routes)


@app.on_sqs_message(queue="closeloop-work", batch_size=1)
def work_queue(event):
    """Fan-out, send batches, reminders and import chunks (chalicelib.runtime.work); a failure is redelivered."""
    return [work.handle(record.to_dict()) for record in event]


@app.on_sns_message(topic="closeloop-ses-events")
def ses_events(event):
    """SES bounces and complaints suppress the address for good."""
    return suppression.ses_notification(event.message, time.time())


@app.schedule(Rate(1, unit=Rate.MINUTES))
def dispatch_due(event):
    """Start scheduled campaigns; enqueue retries, reminders and recurring rounds that are due."""
    return delivery.dispatch(time.time(), get_queue())


@app.schedule(Rate(2, unit=Rate.MINUTES))
def acknowledge(event):
    """Acknowledge every answer whose quiet period is over, exactly once."""
    return dict(followups.acknowledge_due(time.time(), get_settings()))


@app.schedule(Rate(1, unit=Rate.MINUTES))
def apply_counts(event):
    """Move the counters by every change not yet counted, exactly once (chalicelib.answers.counting)."""
    return counting.apply_pending()


@app.schedule(Rate(1, unit=Rate.HOURS))
def send_digests(event):
    """Each recipient's digest at 08:00 in its campaign's time zone, once per period (chalicelib.insight.digest)."""
    return digest.send_due(time.time())


@app.schedule(Rate(1, unit=Rate.DAYS))
def apply_retention(event):
    """Remove comments and properties older than each campaign's retention_days, keeping counts (docs/privacy.md)."""
    return retention.apply_retention(time.time())
