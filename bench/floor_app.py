"""The floor the benches hold Closeloop's answer path against: a bare Chalice app, nothing of ours.

GET /s/{token} renders a small Jinja2 form (autoescaped, one environment per process, the
template compiled on first use); POST /s/{token} reads the form and does one PutItem with a
plain boto3 client built on first use, as a minimal Chalice app would. Its table and
endpoint come from FLOOR_TABLE and FLOOR_ENDPOINT. Imported on its own, from bench/, by
bench.cold_start (a new process per sample) and served by `chalice local` in
bench.answer_latency, so that both measure the same floor.
"""

from __future__ import annotations

import os
import time
import uuid
from urllib.parse import parse_qs

import boto3
import jinja2
from chalice import Chalice, Response

app = Chalice(app_name="floor")
FORM = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><main><h1>{{ question }}</h1>
<form method="post" action="/s/{{ token }}">
{% for n in range(11) %}
<label><input type="radio" name="q_nps" value="{{ n }}"{% if n == chosen %} checked{% endif %}> {{ n }}</label>
{% endfor %}<textarea name="comment"></textarea>
<input type="hidden" name="csrf" value="{{ token }}"><button>Submit</button>
</form></main></body></html>
"""
_environment: jinja2.Environment | None = None
_client = None


def _template() -> jinja2.Template:
    global _environment
    if _environment is None:
        _environment = jinja2.Environment(loader=jinja2.DictLoader({"form.html": FORM}), autoescape=True)
    return _environment.get_template("form.html")


def _dynamodb():
    global _client
    if _client is None:
        _client = boto3.client("dynamodb", endpoint_url=os.environ["FLOOR_ENDPOINT"])
    return _client


@app.route("/")
def index():
    return {"ok": True}


@app.route("/s/{token}", methods=["GET"])
def page(token):
    chosen = int((app.current_request.query_params or {}).get("a", -1))
    body = _template().render(
        title="Survey", question="How likely are you to recommend us?", token=token, chosen=chosen
    )
    return Response(body=body, status_code=200, headers={"Content-Type": "text/html; charset=utf-8"})


@app.route("/s/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def submit(token):
    form = parse_qs((app.current_request.raw_body or b"").decode())
    item = {
        "id": {"S": f"{token}-{uuid.uuid4().hex}"},
        "score": {"N": form["q_nps"][0]},
        "at": {"N": repr(time.time())},
    }
    _dynamodb().put_item(TableName=os.environ["FLOOR_TABLE"], Item=item)
    return Response(body="<p>Thank you!</p>", status_code=200, headers={"Content-Type": "text/html; charset=utf-8"})
