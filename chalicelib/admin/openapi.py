"""The admin API described as OpenAPI 3; a test checks every route of app.py against it.

This module only assembles. Every request body, validated query parameter and answer is declared once
beside the code that parses or builds it (the campaign body in chalicelib.campaigns.campaigns, a
response in chalicelib.loop.followups, metrics in chalicelib.insight.reports, paging and the smaller
bodies in chalicelib.admin.api; docs/architecture.md lists them), and the parsers read their field
names, enums and limits from those declarations. A declaration named in SCHEMAS is published as a
component and referenced wherever it appears.
"""

from __future__ import annotations

from typing import Any

from chalicelib.admin import api
from chalicelib.campaigns import campaigns, contacts, suppression
from chalicelib.core import surveys
from chalicelib.core.errors import ERROR_SCHEMA
from chalicelib.insight import digest_recipients, reports, stats
from chalicelib.loop import followups
from chalicelib.privacy import deletion
from chalicelib.sending import imports

CAMPAIGN_ID = {
    "name": "campaign_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "example": "demo"},
    "description": "`demo` is the campaign `make run` seeds",
}


def _path_param(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


INVITATION_ID = _path_param("invitation_id")
# chalicelib.delighted.history.KINDS; that layer is above this one (tests/test_delighted_import.py keeps them equal)
DELIGHTED_KIND = {
    "name": "kind",
    "in": "query",
    "schema": {"enum": ["people", "responses", "unsubscribes", "bounces"]},
    "description": "what the file holds, checked: a file whose columns or fields say another kind, or lack "
    "this kind's (a bounce needs bounced_at), is refused (400) with nothing written",
}
RESPONSE_ID = _path_param("response_id")


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
        out[str(code)] = {"description": descriptions[code], **_json(ERROR_SCHEMA)}
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
    "Error": ERROR_SCHEMA,
    "Question": surveys.QUESTION_SCHEMA,
    "Survey": surveys.SURVEY_SCHEMA,
    "StoredQuestion": surveys.QUESTION_JSON,
    "StoredSurvey": surveys.SURVEY_JSON,
    "Options": campaigns.OPTIONS_SCHEMA,
    "Recipient": contacts.RECIPIENT_SCHEMA,
    "CampaignInput": campaigns.CAMPAIGN_SCHEMA,
    "Campaign": campaigns.CAMPAIGN_JSON,
    "Import": imports.IMPORT_JSON,
    "RejectedRow": contacts.REJECTION_JSON,
    "Response": followups.RESPONSE_JSON,
    "LoopReport": followups.LOOP_REPORT_JSON,
    "DigestRecipient": digest_recipients.RECIPIENT_JSON,
    "Suppression": suppression.ENTRY_JSON,
    "Deletion": deletion.REPORT_JSON,
    "Interval": reports.PROPORTION_JSON,
    "Mean": reports.MEAN_JSON,
    "Nps": reports.NPS_JSON,
    "Segment": reports.SEGMENT_JSON,
    "Metrics": reports.METRICS_JSON,
    "TrendWeek": reports.TREND_WEEK_JSON,
    "Trend": reports.TREND_JSON,
    "Stats": stats.STATS_JSON,
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


def _names() -> dict[int, str]:
    return {id(schema): name for name, schema in SCHEMAS.items()}


def _components() -> dict[str, Any]:
    names = _names()
    return {name: {key: _named(value, names) for key, value in schema.items()} for name, schema in SCHEMAS.items()}


def document(base_url: str) -> dict:
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
        "paths": _named(_paths(), _names()),
    }


def _paths() -> dict[str, Any]:
    """The operations, built from the declarations themselves (document() names the components)."""
    campaign_body = _json(campaigns.CAMPAIGN_SCHEMA)
    return {
        "/api/openapi.json": {
            "get": {"summary": "This document", "security": [], "responses": {"200": {"description": "OK"}}}
        },
        "/api/campaigns": {
            "post": _op(
                "Create a campaign, optionally with recipients, optionally sending it",
                201,
                api.CREATED_JSON,
                400,
                429,
                body=campaign_body,
            ),
            "get": _op(
                "List campaigns, newest first",
                200,
                api.CAMPAIGNS_JSON,
                400,
                params=[api.PAGE_LIMIT, api.PAGE_CURSOR],
            ),
        },
        "/api/campaigns/{campaign_id}": {
            "get": _op(
                "A campaign and its stats; `status_detail` when invitations failed",
                200,
                api.CAMPAIGN_WITH_STATS_JSON,
                404,
                params=[CAMPAIGN_ID],
            ),
            "patch": _op(
                "Update a draft campaign; once it has gone out, correct only the options sender_name, "
                "reply_to, company, subject, intro, ack and follow_up_name (merged into the others; 409 names "
                "any other field)",
                200,
                api.CAMPAIGN_JSON,
                400,
                404,
                409,
                params=[CAMPAIGN_ID],
                body=campaign_body,
                optional=True,
            ),
        },
        "/api/campaigns/{campaign_id}/recipients": {
            "post": _op(
                "Import recipients: JSON {recipients: [...]}, a text/csv body (`; header=absent`: one address "
                "per line, no header row), or a multipart CSV upload (field `file`). Every rejected row is "
                "reported; duplicates are merged; large files are processed in the background (202, then poll "
                "the import). A CSV that is Delighted's responses export (`score` with `Response ID`, "
                "`Response Timestamp`...) or the rows a Delighted history import rejected is refused (400, "
                "`file`): import it as history (docs/delighted.md).",
                201,
                api.IMPORT_JSON,
                400,
                404,
                429,
                params=[CAMPAIGN_ID],
                body={
                    "content": {
                        "application/json": {"schema": imports.RECIPIENTS_BODY},
                        "text/csv": {"schema": {"type": "string"}},
                        "multipart/form-data": {"schema": api.UPLOAD_BODY},
                    }
                },
            )
            | {
                "responses": _responses(201, api.IMPORT_JSON, 400, 404, 413, 415, 429)
                | {"202": {"description": "Accepted: processing in the background", **_json(api.IMPORT_JSON)}}
            },
        },
        "/api/campaigns/{campaign_id}/imports/delighted": {
            "post": _op(
                "Import one file of the history exported from Delighted into this campaign: people, survey "
                "responses, unsubscribes or bounces, as Delighted's CSV export (text/csv, or a multipart "
                "upload, field `file`) or the JSON list its v1 API returned (application/json). Responses keep "
                "their original times and count in their own weeks, without acknowledgements, alerts or "
                "webhooks; unsubscribes and bounces are suppressed. Importing a file again adds nothing "
                "(`invited` counts what is new, `already_invited` what was there); the rejected rows' CSV, "
                "fixed, is imported here again (never as recipients, which refuses it). At most 2,000 rows "
                "per request; `python -m chalicelib.cli import-delighted` takes larger files. docs/delighted.md.",
                201,
                api.IMPORT_JSON,
                400,
                404,
                429,
                params=[CAMPAIGN_ID, DELIGHTED_KIND],
                body={
                    "content": {
                        "text/csv": {"schema": {"type": "string"}},
                        "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                        "multipart/form-data": {"schema": api.UPLOAD_BODY},
                    }
                },
            ),
        },
        "/api/campaigns/{campaign_id}/held": {
            "get": _op(
                "Scanner activity kept out of the scores and waiting for a decision, newest first",
                200,
                api.HELD_LIST_JSON,
                400,
                404,
                params=[CAMPAIGN_ID, api.PAGE_LIMIT, api.PAGE_CURSOR],
            ),
        },
        **{
            f"/api/held/{{invitation_id}}/{action}": {
                "post": _op(summary, 200, api.HELD_DECISION_JSON, 400, 404, 409, params=[INVITATION_ID])
            }
            for action, summary in (
                ("accept", "Accept held activity as the person's answer: counted once, acknowledged and alerted"),
                ("dismiss", "Dismiss held activity: it stays out of the scores"),
            )
        },
        "/api/campaigns/{campaign_id}/imports/{import_id}": {
            "get": _op(
                "Progress of an import",
                200,
                api.IMPORT_JSON,
                404,
                params=[CAMPAIGN_ID, _path_param("import_id")],
            ),
        },
        "/api/campaigns/{campaign_id}/imports/{import_id}/rejected.csv": {
            "get": _op(
                "The rejected rows of an import as CSV, to fix and upload again: the uploaded file's columns "
                "in its order with each row's cells as sent (a JSON import: email, then its properties), then "
                "`row` (its number in the file) and `reason`. Delete those two columns before uploading again, "
                "or they become properties. Cells starting with = + - @ tab or carriage return are prefixed "
                "with ' as in the responses CSV.",
                200,
                {"type": "string"},
                404,
                params=[CAMPAIGN_ID, _path_param("import_id")],
            )
            | {
                "responses": _responses(200, {"type": "string"}, 404)
                | {"200": {"description": "The rejected rows", "content": {"text/csv": {"schema": {"type": "string"}}}}}
            },
        },
        "/api/campaigns/{campaign_id}/members/{email}": {
            "delete": _op(
                "Stop asking a contact in a recurring campaign",
                200,
                api.REMOVED_JSON,
                400,
                404,
                params=[CAMPAIGN_ID, _path_param("email")],
            ),
        },
        "/api/campaigns/{campaign_id}/send": {
            "post": _op(
                "Send now, or at `at` (ISO 8601 with offset)",
                202,
                api.SENT_JSON,
                400,
                404,
                409,
                429,
                params=[CAMPAIGN_ID],
                body=_json(api.SEND_BODY),
                optional=True,
            ),
        },
        **{
            f"/api/campaigns/{{campaign_id}}/{action}": {
                "post": _op(summary, 200, api.CAMPAIGN_JSON, 400, 404, 409, params=[CAMPAIGN_ID])
            }
            for action, summary in (
                ("pause", "Pause a scheduled or sending campaign"),
                ("resume", "Resume a paused campaign"),
                ("unschedule", "Take a scheduled campaign back to a draft, to correct it or its time"),
                ("cancel", "Cancel a campaign: nothing more is sent"),
            )
        },
        "/api/campaigns/{campaign_id}/preview": {
            "post": _op(
                "The invitation as a recipient would get it, without sending",
                200,
                api.PREVIEW_JSON,
                400,
                404,
                429,
                params=[CAMPAIGN_ID],
                body=_json(api.PREVIEW_BODY),
            ),
        },
        "/api/campaigns/{campaign_id}/stats": {
            "get": _op(
                "Invited, sent, bounced, complained, suppressed, skipped (with reasons), scanner clicks "
                "filtered, responded, response rate, comment rate",
                200,
                api.STATS_JSON,
                404,
                params=[CAMPAIGN_ID],
            ),
        },
        "/api/campaigns/{campaign_id}/responses": {
            "get": _op(
                "Responses, newest first: filter by category, loop_status, since/until (ISO 8601), "
                "property (name:value), theme and q (a phrase of the comment, any case); paged with limit "
                "and cursor (a page may hold fewer than limit while next_cursor is set)",
                200,
                api.RESPONSES_JSON,
                400,
                404,
                params=[CAMPAIGN_ID, api.PAGE_LIMIT, api.PAGE_CURSOR, *api.RESPONSE_FILTERS],
            ),
        },
        "/api/campaigns/{campaign_id}/loop": {
            "get": _op(
                "Time to acknowledge, to contact and to close; cases past their target",
                200,
                api.LOOP_JSON,
                404,
                params=[CAMPAIGN_ID],
            ),
        },
        "/api/responses/{response_id}": {
            "get": _op(
                "One response with its acknowledgement, loop history, alerts and webhooks",
                200,
                api.RESPONSE_WITH_DELIVERIES_JSON,
                404,
                params=[RESPONSE_ID],
            ),
        },
        "/api/responses/{response_id}/loop": {
            "post": _op(
                "Record the loop: contacted, resolved, or acknowledged to reopen a resolved case, with a note. "
                "With expected_version (the response's loop.version), 409 if the case changed since it was read",
                200,
                api.RESPONSE_JSON,
                400,
                404,
                409,
                params=[RESPONSE_ID],
                body=_json(followups.LOOP_UPDATE_BODY),
            ),
        },
        "/api/campaigns/{campaign_id}/digest-recipients": {
            "get": _op(
                "Who receives the campaign's digest, and how often",
                200,
                api.DIGEST_RECIPIENTS_JSON,
                404,
                params=[CAMPAIGN_ID],
            ),
            "put": _op(
                "Set the digest's recipients to this list. New ones get it weekly unless a frequency is "
                "given; a recipient who stopped it through the link in a digest stays stopped, and listed as "
                "stopped when left out.",
                200,
                api.DIGEST_RECIPIENTS_JSON,
                400,
                404,
                params=[CAMPAIGN_ID],
                body=_json(digest_recipients.RECIPIENTS_BODY),
            ),
        },
        "/api/suppression": {
            "get": _op(
                "The suppression list (every campaign's): addresses starting with email_prefix, in address "
                "order, with why each is suppressed; paged with limit and cursor. Addresses suppressed before "
                "the list kept them are found by the whole address.",
                200,
                api.SUPPRESSIONS_JSON,
                400,
                params=[suppression.EMAIL_PREFIX, api.PAGE_LIMIT, api.PAGE_CURSOR],
            ),
            "post": _op(
                "Suppress an address for every campaign, with a reason (unsubscribed, complained or manual). "
                "An address already suppressed keeps its first reason (200, added false). Nothing removes a "
                "suppression.",
                201,
                api.SUPPRESSION_ADDED_JSON,
                400,
                body=_json(suppression.ADD_BODY),
            )
            | {
                "responses": _responses(201, api.SUPPRESSION_ADDED_JSON, 400, 413, 415)
                | {"200": {"description": "Suppressed already", **_json(api.SUPPRESSION_ADDED_JSON)}}
            },
        },
        "/api/suppression/{email}": {
            "get": _op(
                "Why an address is suppressed: reason, when, source and campaign; 404 when it is not",
                200,
                api.SUPPRESSION_JSON,
                400,
                404,
                params=[_path_param("email")],
            ),
        },
        "/api/people/{email}": {
            "delete": _op(
                "Delete a person and everything about them (contact, invitations and answers, memberships, digest "
                "subscriptions, dashboard user); the address stays only as a suppressed hash, and the deletion is "
                "recorded without it. 404 when nothing was known about the address (its hash is suppressed anyway); "
                "409 when it is the dashboard's last admin",
                200,
                api.DELETION_JSON,
                400,
                404,
                409,
                params=[_path_param("email")],
            ),
        },
        "/api/campaigns/{campaign_id}/metrics": {
            "get": _op(
                "NPS (adjusted-Wald interval and plain Wald SE), CSAT (Wilson), CES and other scales (Student t), "
                "choices and rates for a segment: all time from week counters, or from since to until (days in "
                "the campaign's time zone, both included) from day counters; the answer says what was summed",
                200,
                reports.METRICS_JSON,
                400,
                404,
                params=[CAMPAIGN_ID, *api.METRICS_QUERY],
            ),
        },
        "/api/campaigns/{campaign_id}/trend": {
            "get": _op(
                "NPS with its interval, sent, responses and rates per ISO week, oldest first",
                200,
                reports.TREND_JSON,
                400,
                404,
                params=[CAMPAIGN_ID, *api.TREND_QUERY],
            ),
        },
        "/api/campaigns/{campaign_id}/responses.csv": {
            "get": _op(
                "Responses as CSV, one row per response: id, email, times (ISO 8601, UTC), score, category, "
                "comment, every question, every property, loop status. Paged: each page is a complete CSV "
                "(its property columns are the segment properties, then those present in the page); a `Link: "
                '<...>; rel="next"` header gives the next page until the last. Cells starting with = + - @ tab '
                "or carriage return are prefixed with ' so spreadsheets do not run them as formulas. Takes the "
                "filters of the responses list; the Link keeps them.",
                200,
                {"type": "string"},
                400,
                404,
                params=[CAMPAIGN_ID, api.CSV_LIMIT, api.CSV_CURSOR, *api.RESPONSE_FILTERS],
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
                api.SKIPPED_JSON,
                400,
                404,
                params=[CAMPAIGN_ID, api.SKIPPED_LIMIT, api.PAGE_CURSOR],
            ),
        },
        "/api/campaigns/{campaign_id}/resend-failed": {
            "post": _op(
                "Send the invitations that failed again (after correcting the options); up to 5,000 per "
                "call, `more` says when others remain",
                202,
                api.RESENT_JSON,
                400,
                404,
                409,
                429,
                params=[CAMPAIGN_ID],
            ),
        },
    }
