"""Closeloop's HTTP routes and scheduled functions: parse, call chalicelib, return."""

from __future__ import annotations

import functools
import json
import time

from chalice import Chalice, Rate, Response

from chalicelib import api, outbox, survey_pages
from chalicelib.auth import authenticate
from chalicelib.config import get_settings
from chalicelib.errors import CloseloopError, ValidationError
from chalicelib.invitations import send_due
from chalicelib.web import Reply, parse_form

app = Chalice(app_name="closeloop")
FORM = ["application/x-www-form-urlencoded"]


def _send(reply: Reply) -> Response:
    return Response(body=reply.body, status_code=reply.status, headers=reply.headers)


def _json(status: int, body: dict) -> Response:
    return Response(body=body, status_code=status, headers={"Cache-Control": "no-store"})


def api_route(path: str, **kwargs):
    """An admin API route: bearer token required; domain errors become JSON naming the field at fault."""

    def register(view):
        @functools.wraps(view)
        def guarded(*args, **params):
            try:
                authenticate(app.current_request.headers)
                return _json(*view(*args, **params))
            except CloseloopError as exc:
                return _json(exc.status, exc.to_json())

        return app.route(path, **kwargs)(guarded)

    return register


def _body() -> object:
    try:
        return json.loads(app.current_request.raw_body or b"{}")
    except ValueError:
        raise ValidationError("The request body is not valid JSON.") from None


@app.route("/")
def home():
    if get_settings().is_local:
        return Response(body="", status_code=302, headers={"Location": "/dev/outbox"})
    return {"service": "closeloop"}


@app.route("/favicon.ico")
def favicon():
    return Response(body="", status_code=204, headers={"Cache-Control": "public, max-age=86400"})


@app.route("/s/{token}", methods=["GET"])
def survey_page(token):
    return _send(survey_pages.show(token, app.current_request.query_params, time.time()))


@app.route("/s/{token}", methods=["POST"], content_types=FORM)
def survey_submit(token):
    request = app.current_request
    return _send(survey_pages.submit(token, parse_form(request.raw_body), request.headers, time.time()))


@app.route("/s/{token}/t", methods=["GET"])
def scanner_trap(token):
    return _send(survey_pages.trap(token, time.time()))


@app.route("/dev/outbox")
def dev_outbox():
    return _send(outbox.listing())


@app.route("/dev/outbox/{name}")
def dev_outbox_message(name):
    return _send(outbox.show(name))


@api_route("/api/campaigns", methods=["POST"])
def create_campaign():
    return api.create_campaign(_body(), time.time())


@api_route("/api/campaigns/{campaign_id}", methods=["GET"])
def get_campaign(campaign_id):
    return api.get_campaign(campaign_id)


@api_route("/api/campaigns/{campaign_id}/send", methods=["POST"])
def send_campaign(campaign_id):
    return api.send_campaign(campaign_id, time.time())


@app.schedule(Rate(1, unit=Rate.MINUTES))
def send_invitations(event):
    """Deliver invitations that are due: scheduled sends and retries after a failure."""
    return dict(send_due(time.time(), get_settings()))
