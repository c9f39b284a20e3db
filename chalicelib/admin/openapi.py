"""The admin API described as OpenAPI 3; a test checks every route of app.py against it.

Request bodies are not described here but where they are validated: the campaign body, its survey,
options and recipients are declared once beside their parsers (campaigns.CAMPAIGN_SCHEMA,
surveys.SURVEY_SCHEMA, campaigns.OPTIONS, contacts.RECIPIENT_SCHEMA), which read their field names,
enums and limits from those declarations; this module publishes them, naming each declaration that
appears inside another as a component.
"""

from __future__ import annotations

from typing import Any

from chalicelib.campaigns import campaigns, contacts
from chalicelib.core import surveys

ERROR = {"$ref": "#/components/schemas/Error"}
CAMPAIGN_ID = {
    "name": "campaign_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "example": "demo"},
    "description": "`demo` is the campaign `make run` seeds",
}
RESPONSE_ID = {"name": "response_id", "in": "path", "required": True, "schema": {"type": "string"}}
CURSOR = {
    "name": "cursor",
    "in": "query",
    "schema": {"type": "string"},
    "description": "next_cursor of the previous page",
}
LIMIT = {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}}
SEGMENT = {
    "name": "segment",
    "in": "query",
    "schema": {"type": "string", "example": "plan=pro"},
    "description": "property=value of one of the campaign's segment properties; everyone when absent",
}


def _day(name: str, description: str) -> dict:
    """A day, YYYY-MM-DD; left empty it means the default, as when it is absent."""
    day = {"anyOf": [{"type": "string", "format": "date"}, {"const": ""}]}
    return {"name": name, "in": "query", "schema": day, "description": description}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _responses(ok: int, schema: dict, *errors: int) -> dict:
    out: dict[str, Any] = {str(ok): {"description": "OK", **_json(schema)}}
    descriptions = {
        400: "Bad input: the message and the field at fault",
        401: "Missing or unknown bearer token",
        404: "No such campaign",
        409: "Not allowed in the campaign's current state",
        413: "The body is larger than this endpoint takes (120 KB of JSON; 6 MB for imports)",
        415: "The body's Content-Type is not one this endpoint takes",
        429: "Too many bulk calls this minute; see Retry-After",
    }
    for code in (401, *errors):
        out[str(code)] = {"description": descriptions[code], **_json(ERROR)}
    if 429 in errors:
        out["429"]["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}}
    return out


def _op(
    summary: str, ok: int, schema: dict, *errors: int, params=(), body: dict | None = None, optional: bool = False
) -> dict:
    """An operation; a body is required unless `optional` (an empty body is read as {})."""
    if body:
        errors = (*errors, 413, 415)
    op: dict[str, Any] = {"summary": summary, "responses": _responses(ok, schema, *errors)}
    if params:
        op["parameters"] = list(params)
    if body:
        op["requestBody"] = {"required": not optional, **body}
    return op


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["message"],
                "properties": {"message": {"type": "string"}, "field": {"type": "string"}},
            }
        },
    },
    "Question": surveys.QUESTION_SCHEMA,
    "Options": campaigns.OPTIONS_SCHEMA,
    "Recipient": contacts.RECIPIENT_SCHEMA,
    "CampaignInput": campaigns.CAMPAIGN_SCHEMA,
    "Campaign": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "status": {"enum": ["draft", "scheduled", "sending", "sent", "paused", "cancelled"]},
            "kind": {"enum": ["one_off", "recurring"]},
            "interval_days": {"type": ["integer", "null"]},
            "send_at": {"type": ["number", "null"]},
            "survey": {"type": "object"},
            "segments": {"type": "array", "items": {"type": "string"}},
            "timezone": {"type": "string"},
            "options": _ref("Options"),
        },
    },
    "Import": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "status": {"enum": ["running", "done"]},
            "rows": {"type": "integer"},
            "accepted": {"type": "integer"},
            "duplicates_merged": {"type": "integer"},
            "rejected": {"type": "integer"},
            "invited": {"type": "integer"},
            "already_invited": {"type": "integer"},
            "chunks": {"type": "object"},
            "rejected_rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "row": {"type": "integer"},
                        "field": {"type": "string"},
                        "message": {"type": "string"},
                    },
                },
            },
        },
    },
    "Response": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "campaign_id": {"type": "string"},
            "email": {"type": "string"},
            "score": {"type": ["integer", "null"]},
            "category": {"type": ["string", "null"]},
            "answers": {"type": "object"},
            "comment": {"type": ["string", "null"]},
            "themes": {"type": "array", "items": {"type": "string"}},
            "properties": {"type": "object"},
            "acknowledgement": {"type": "object"},
            "loop": {"type": "object"},
            "deliveries": {"type": "array"},
        },
    },
    "DigestRecipient": {
        "type": "object",
        "required": ["email"],
        "properties": {
            "email": {"type": "string", "format": "email"},
            "frequency": {"enum": ["weekly", "daily", "monthly", "stopped"]},
            "stopped_by": {
                "type": ["string", "null"],
                "description": "`recipient` when they stopped it through the link in a digest: kept by later PUTs",
            },
            "created_at": {"type": "number"},
            "updated_at": {"type": "number"},
        },
    },
    "Interval": {
        "type": "object",
        "description": "A 95% interval; null values when there are too few answers",
        "properties": {k: {"type": ["number", "null"]} for k in ("share", "mean", "sd", "margin", "low", "high")}
        | {"successes": {"type": "integer"}, "n": {"type": "integer"}, "interval": {"type": "string"}},
    },
    "Nps": {
        "type": ["object", "null"],
        "properties": {
            "question_id": {"type": "string"},
            "n": {"type": "integer"},
            "promoters": {"type": "integer"},
            "passives": {"type": "integer"},
            "detractors": {"type": "integer"},
            "score": {"type": ["number", "null"], "description": "NPS in points, -100 to 100; null without answers"},
            "interval": {
                "type": "object",
                "description": "Adjusted-Wald 95% interval (Rocks 2016): centre NPS', margin its half-width",
                "properties": {k: {"type": "number"} for k in ("centre", "margin", "low", "high")}
                | {"method": {"const": "adjusted-wald-95"}},
            },
            "wald": {
                "type": "object",
                "description": "Plain Wald standard error (a fraction) and 95% margin (points), for comparison",
                "properties": {"se": {"type": ["number", "null"]}, "margin": {"type": ["number", "null"]}},
            },
        },
    },
    "Metrics": {
        "type": "object",
        "properties": {
            "campaign_id": {"type": "string"},
            "segment": {
                "type": "object",
                "properties": {"key": {"type": "string"}, "property": {"type": "string"}, "value": {"type": "string"}},
            },
            "period": {
                "type": "object",
                "description": "What was summed: every week (no since/until) or the days from since to until, "
                "in the campaign's time zone",
                "properties": {
                    "granularity": {"enum": ["week", "day"]},
                    "since": {"type": "string", "format": "date"},
                    "until": {"type": "string", "format": "date"},
                    "timezone": {"type": "string"},
                    "days_summed": {"type": "integer"},
                    "days_with_counts": {"type": "integer"},
                    "summed": {"type": "string"},
                },
            },
            "nps": _ref("Nps"),
            "csat": {
                "type": "array",
                "description": "Per CSAT question: share of 4-5 answers with a Wilson interval, and the mean",
                "items": {"type": "object"},
            },
            "ces": {
                "type": "array",
                "description": "Per CES question: mean with a Student t interval",
                "items": {"type": "object"},
            },
            "scales": {"type": "array", "items": {"type": "object"}},
            "choices": {"type": "array", "items": {"type": "object"}},
            "rates": {
                "type": "object",
                "properties": {
                    "sent": {"type": "integer"},
                    "responses": {"type": "integer"},
                    "comments": {"type": "integer"},
                    "response_rate": _ref("Interval"),
                    "comment_rate": _ref("Interval"),
                },
            },
        },
    },
    "TrendWeek": {
        "type": "object",
        "properties": {
            "week": {"type": "string", "example": "2026-W47"},
            "starts": {"type": "string", "format": "date"},
            "n": {"type": "integer"},
            "nps": {"type": ["number", "null"]},
            "margin": {"type": "number"},
            "low": {"type": "number"},
            "high": {"type": "number"},
            "sent": {"type": "integer"},
            "responses": {"type": "integer"},
            "response_rate": {"type": ["number", "null"]},
            "comment_rate": {"type": ["number", "null"]},
        },
    },
    "Stats": {
        "type": "object",
        "properties": {
            name: {"type": "integer"}
            for name in (
                "invited",
                "sent",
                "bounced",
                "complained",
                "unsubscribed",
                "suppressed",
                "failed",
                "reminders_sent",
                "scanner_clicks_filtered",
                "responded",
                "comments",
            )
        }
        | {
            "skipped": {"type": "object", "properties": {"total": {"type": "integer"}, "reasons": {"type": "object"}}},
            "failed_reasons": {"type": "object", "additionalProperties": {"type": "integer"}},
            "scanner": {"type": "object"},
            "response_rate": {"type": ["number", "null"]},
            "comment_rate": {"type": ["number", "null"]},
        },
    },
}


def _named(node: Any, names: dict[int, str]) -> Any:
    """The schema with every declaration that is a component of its own replaced by a reference to it."""
    if id(node) in names:
        return _ref(names[id(node)])
    if isinstance(node, dict):
        return {key: _named(value, names) for key, value in node.items()}
    if isinstance(node, list):
        return [_named(value, names) for value in node]
    return node


def _components() -> dict[str, Any]:
    names = {id(schema): name for name, schema in SCHEMAS.items()}
    return {name: {key: _named(value, names) for key, value in schema.items()} for name, schema in SCHEMAS.items()}


def document(base_url: str) -> dict:
    campaign = {"type": "object", "properties": {"campaign": _ref("Campaign")}}
    with_import = {"type": "object", "properties": {"import": _ref("Import")}}
    recipients = {"type": "object", "properties": {"recipients": {"type": "array", "items": _ref("DigestRecipient")}}}
    json_body = _json(_ref("CampaignInput"))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Closeloop admin API",
            "version": "1",
            "description": "Campaigns, recipients, sending, stats, metrics, digests and exports. Errors are JSON "
            "with a message and the field at fault. Bulk calls (imports, sends, previews) are limited per token "
            "and minute.",
        },
        "servers": [{"url": base_url}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": _components()},
        "paths": {
            "/api/openapi.json": {
                "get": {"summary": "This document", "security": [], "responses": {"200": {"description": "OK"}}}
            },
            "/api/campaigns": {
                "post": _op(
                    "Create a campaign, optionally with recipients, optionally sending it",
                    201,
                    {"type": "object", "properties": {"campaign": _ref("Campaign"), "recipients": _ref("Import")}},
                    400,
                    429,
                    body=json_body,
                ),
                "get": _op(
                    "List campaigns, newest first",
                    200,
                    {
                        "type": "object",
                        "properties": {
                            "campaigns": {"type": "array", "items": _ref("Campaign")},
                            "next_cursor": {"type": ["string", "null"]},
                        },
                    },
                    400,
                    params=[LIMIT, CURSOR],
                ),
            },
            "/api/campaigns/{campaign_id}": {
                "get": _op(
                    "A campaign and its stats; `status_detail` when invitations failed",
                    200,
                    campaign,
                    404,
                    params=[CAMPAIGN_ID],
                ),
                "patch": _op(
                    "Update a draft campaign; once it has gone out, correct only the options sender_name, "
                    "reply_to, company, subject, intro, ack and follow_up_name (merged into the others; 409 names "
                    "any other field)",
                    200,
                    campaign,
                    400,
                    404,
                    409,
                    params=[CAMPAIGN_ID],
                    body=json_body,
                    optional=True,
                ),
            },
            "/api/campaigns/{campaign_id}/recipients": {
                "post": _op(
                    "Import recipients: JSON {recipients: [...]}, a text/csv body, or a multipart CSV upload "
                    "(field `file`). Every rejected row is reported; duplicates are merged; large files are "
                    "processed in the background (202, then poll the import).",
                    201,
                    with_import,
                    400,
                    404,
                    429,
                    params=[CAMPAIGN_ID],
                    body={
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"recipients": {"type": "array", "items": _ref("Recipient")}},
                                }
                            },
                            "text/csv": {"schema": {"type": "string"}},
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"file": {"type": "string", "format": "binary"}},
                                }
                            },
                        }
                    },
                )
                | {
                    "responses": _responses(201, with_import, 400, 404, 413, 415, 429)
                    | {"202": {"description": "Accepted: processing in the background", **_json(with_import)}}
                },
            },
            "/api/campaigns/{campaign_id}/imports/{import_id}": {
                "get": _op(
                    "Progress of an import",
                    200,
                    with_import,
                    404,
                    params=[
                        CAMPAIGN_ID,
                        {"name": "import_id", "in": "path", "required": True, "schema": {"type": "string"}},
                    ],
                ),
            },
            "/api/campaigns/{campaign_id}/members/{email}": {
                "delete": _op(
                    "Stop asking a contact in a recurring campaign",
                    200,
                    {"type": "object"},
                    400,
                    404,
                    params=[
                        CAMPAIGN_ID,
                        {"name": "email", "in": "path", "required": True, "schema": {"type": "string"}},
                    ],
                ),
            },
            "/api/campaigns/{campaign_id}/send": {
                "post": _op(
                    "Send now, or at `at` (ISO 8601 with offset)",
                    202,
                    campaign,
                    400,
                    404,
                    409,
                    429,
                    params=[CAMPAIGN_ID],
                    body=_json(
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {"at": {"type": "string", "format": "date-time"}},
                        }
                    ),
                    optional=True,
                ),
            },
            **{
                f"/api/campaigns/{{campaign_id}}/{action}": {
                    "post": _op(summary, 200, campaign, 404, 409, params=[CAMPAIGN_ID])
                }
                for action, summary in (
                    ("pause", "Pause a scheduled or sending campaign"),
                    ("resume", "Resume a paused campaign"),
                    ("cancel", "Cancel a campaign: nothing more is sent"),
                )
            },
            "/api/campaigns/{campaign_id}/preview": {
                "post": _op(
                    "The invitation as a recipient would get it, without sending",
                    200,
                    {
                        "type": "object",
                        "properties": {k: {"type": "string"} for k in ("subject", "from", "text", "html")},
                    },
                    400,
                    404,
                    429,
                    params=[CAMPAIGN_ID],
                    body=_json(
                        {
                            "type": "object",
                            "required": ["email"],
                            "properties": {"email": {"type": "string"}, "properties": {"type": "object"}},
                        }
                    ),
                ),
            },
            "/api/campaigns/{campaign_id}/stats": {
                "get": _op(
                    "Invited, sent, bounced, complained, suppressed, skipped (with reasons), scanner clicks "
                    "filtered, responded, response rate, comment rate",
                    200,
                    {"type": "object", "properties": {"stats": _ref("Stats")}},
                    404,
                    params=[CAMPAIGN_ID],
                ),
            },
            "/api/campaigns/{campaign_id}/responses": {
                "get": _op(
                    "Responses, newest first: filter by category, loop_status, since/until (ISO 8601) and "
                    "property (name:value); paged with limit and cursor",
                    200,
                    {
                        "type": "object",
                        "properties": {
                            "responses": {"type": "array", "items": _ref("Response")},
                            "next_cursor": {"type": ["string", "null"]},
                        },
                    },
                    400,
                    404,
                    params=[CAMPAIGN_ID, LIMIT, CURSOR]
                    + [
                        {"name": n, "in": "query", "schema": {"type": "string"}}
                        for n in ("category", "loop_status", "since", "until", "property")
                    ],
                ),
            },
            "/api/campaigns/{campaign_id}/loop": {
                "get": _op(
                    "Time to acknowledge, to contact and to close; cases past their target",
                    200,
                    {"type": "object", "properties": {"loop": {"type": "object"}}},
                    404,
                    params=[CAMPAIGN_ID],
                ),
            },
            "/api/responses/{response_id}": {
                "get": _op(
                    "One response with its acknowledgement, loop history, alerts and webhooks",
                    200,
                    {"type": "object", "properties": {"response": _ref("Response")}},
                    404,
                    params=[RESPONSE_ID],
                ),
            },
            "/api/responses/{response_id}/loop": {
                "post": _op(
                    "Record the loop: acknowledged, contacted or resolved, with a note",
                    200,
                    {"type": "object", "properties": {"response": _ref("Response")}},
                    400,
                    404,
                    params=[RESPONSE_ID],
                    body=_json(
                        {
                            "type": "object",
                            "required": ["status"],
                            "properties": {
                                "status": {"enum": ["acknowledged", "contacted", "resolved"]},
                                "note": {"type": "string", "maxLength": 2000},
                            },
                        }
                    ),
                ),
            },
            "/api/campaigns/{campaign_id}/digest-recipients": {
                "get": _op(
                    "Who receives the campaign's digest, and how often",
                    200,
                    recipients,
                    404,
                    params=[CAMPAIGN_ID],
                ),
                "put": _op(
                    "Set the digest's recipients to this list. New ones get it weekly unless a frequency is "
                    "given; a recipient who stopped it through the link in a digest stays stopped, and listed as "
                    "stopped when left out.",
                    200,
                    recipients,
                    400,
                    404,
                    params=[CAMPAIGN_ID],
                    body=_json(
                        {
                            "type": "object",
                            "required": ["recipients"],
                            "properties": {
                                "recipients": {
                                    "type": "array",
                                    "maxItems": 50,
                                    "items": {
                                        "oneOf": [
                                            {"type": "string", "format": "email"},
                                            {
                                                "type": "object",
                                                "required": ["email"],
                                                "properties": {
                                                    "email": {"type": "string", "format": "email"},
                                                    "frequency": {
                                                        "enum": ["weekly", "daily", "monthly", "stopped", None],
                                                        "description": "null or absent: as it is (weekly if new)",
                                                    },
                                                },
                                            },
                                        ]
                                    },
                                }
                            },
                        }
                    ),
                ),
            },
            "/api/campaigns/{campaign_id}/metrics": {
                "get": _op(
                    "NPS (adjusted-Wald interval and plain Wald SE), CSAT (Wilson), CES and other scales (Student t), "
                    "choices and rates for a segment: all time from week counters, or from since to until (days in "
                    "the campaign's time zone, both included) from day counters; the answer says what was summed",
                    200,
                    _ref("Metrics"),
                    400,
                    404,
                    params=[
                        CAMPAIGN_ID,
                        _day("since", "first day (default: the day the campaign was created)"),
                        _day("until", "last day, included (default: today)"),
                        SEGMENT,
                    ],
                ),
            },
            "/api/campaigns/{campaign_id}/trend": {
                "get": _op(
                    "NPS with its interval, sent, responses and rates per ISO week, oldest first",
                    200,
                    {
                        "type": "object",
                        "properties": {
                            "campaign_id": {"type": "string"},
                            "timezone": {"type": "string"},
                            "segment": {"type": "object"},
                            "weeks": {"type": "array", "items": _ref("TrendWeek")},
                        },
                    },
                    400,
                    404,
                    params=[
                        CAMPAIGN_ID,
                        {"name": "weeks", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 104}},
                        _day("until", "a day of the last week shown (default: today)"),
                        SEGMENT,
                    ],
                ),
            },
            "/api/campaigns/{campaign_id}/responses.csv": {
                "get": _op(
                    "Responses as CSV, one row per response: id, email, times (ISO 8601, UTC), score, category, "
                    "comment, every question, every property, loop status. Paged: each page is a complete CSV "
                    "(its property columns are the segment properties, then those present in the page); a `Link: "
                    '<...>; rel="next"` header gives the next page until the last. Cells starting with = + - @ tab '
                    "or carriage return are prefixed with ' so spreadsheets do not run them as formulas.",
                    200,
                    {"type": "string"},
                    400,
                    404,
                    params=[
                        CAMPAIGN_ID,
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                        CURSOR | {"description": "from the Link header of the previous page"},
                    ],
                )
                | {
                    "responses": _responses(200, {"type": "string"}, 400, 404)
                    | {
                        "200": {
                            "description": "One page of responses",
                            "content": {"text/csv": {"schema": {"type": "string"}}},
                            "headers": {
                                "Link": {
                                    "schema": {"type": "string"},
                                    "description": '<next page URL>; rel="next", absent on the last page',
                                }
                            },
                        }
                    }
                },
            },
            "/api/campaigns/{campaign_id}/skipped": {
                "get": _op(
                    "Recipients who were not sent the survey, with their state (skipped or failed) and the reason",
                    200,
                    {
                        "type": "object",
                        "properties": {"skipped": {"type": "array"}, "next_cursor": {"type": ["string", "null"]}},
                    },
                    400,
                    404,
                    params=[CAMPAIGN_ID, LIMIT | {"schema": {"type": "integer", "minimum": 1, "maximum": 500}}, CURSOR],
                ),
            },
            "/api/campaigns/{campaign_id}/resend-failed": {
                "post": _op(
                    "Send the invitations that failed again (after correcting the options); up to 5,000 per "
                    "call, `more` says when others remain",
                    202,
                    {
                        "type": "object",
                        "properties": {
                            "resent": {"type": "integer"},
                            "more": {"type": "boolean"},
                            "campaign": _ref("Campaign"),
                        },
                    },
                    404,
                    409,
                    429,
                    params=[CAMPAIGN_ID],
                ),
            },
            **_held_paths(),
        },
    }


def _held_paths() -> dict[str, Any]:
    """Held answers (docs/scanners.md): list a campaign's, accept one as the person's answer, or dismiss it."""
    entry = {"type": "object", "description": "invitation_id, email, kind, reason, reason_text, at, answers, ..."}
    invitation = {"name": "invitation_id", "in": "path", "required": True, "schema": {"type": "string"}}
    decided = {"type": "object", "properties": {"decision": {"enum": ["accepted", "dismissed"]}, "held": entry}}
    return {
        "/api/campaigns/{campaign_id}/held": {
            "get": _op(
                "Scanner activity kept out of the scores and waiting for a decision, newest first",
                200,
                {
                    "type": "object",
                    "properties": {
                        "held": {"type": "array", "items": entry},
                        "next_cursor": {"type": ["string", "null"]},
                    },
                },
                400,
                404,
                params=[CAMPAIGN_ID, LIMIT, CURSOR],
            ),
        },
        **{
            f"/api/held/{{invitation_id}}/{action}": {
                "post": _op(summary, 200, decided, 400, 404, 409, params=[invitation])
            }
            for action, summary in (
                ("accept", "Accept held activity as the person's answer: counted once, acknowledged and alerted"),
                ("dismiss", "Dismiss held activity: it stays out of the scores"),
            )
        },
    }
