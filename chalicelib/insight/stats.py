"""A campaign's numbers, from its counter items only (never its responses)."""

from __future__ import annotations

from typing import Any

from chalicelib.core import nps
from chalicelib.core.counters import ALL_SEGMENT
from chalicelib.store.counts import read


def totals(campaign_id: str, segment: str = ALL_SEGMENT) -> dict[str, int]:
    """All weeks of one segment summed: one Query on the campaign's counter items."""
    summed: dict[str, int] = {}
    for key, counts in read(campaign_id, "W#").items():
        if key.split("#", 2)[2] != segment:
            continue
        for name, value in counts.items():
            summed[name] = summed.get(name, 0) + value
    return {name: value for name, value in summed.items() if value}


_COUNT = {"type": "integer"}
_BY_REASON = {"type": "object", "additionalProperties": _COUNT, "description": "reason to how many"}
# What campaign_stats returns, declared once for chalicelib.admin.openapi.
STATS_JSON: dict[str, Any] = {
    "type": "object",
    "properties": {
        "invited": _COUNT,
        "sent": _COUNT,
        "bounced": _COUNT,
        "complained": _COUNT,
        "unsubscribed": _COUNT,
        "suppressed": _COUNT,
        "skipped": {"type": "object", "properties": {"total": _COUNT, "reasons": _BY_REASON}},
        "failed": _COUNT,
        "failed_reasons": _BY_REASON,
        "reminders_sent": _COUNT,
        "scanner_clicks_filtered": _COUNT,
        "scanner": {
            "type": "object",
            "description": "link scanners' clicks: answers held back, held awaiting a person, trap hits",
            "properties": {"answers_held": _COUNT, "awaiting_confirmation": _COUNT, "trap_hits": _COUNT},
        },
        "responded": {"type": "integer", "description": "every response, those in responded_unmailed too"},
        "responded_unmailed": {
            "type": "integer",
            "description": "responses to no mailed invitation (posted through the v1 API): not in response_rate",
        },
        "response_rate": {
            "type": ["number", "null"],
            "description": "(responded - responded_unmailed) / sent, a fraction (AAPOR RR1): at most 1",
        },
        "comments": _COUNT,
        "comment_rate": {"type": ["number", "null"], "description": "comments / responded, a fraction"},
    },
}


def campaign_stats(campaign_id: str) -> dict:
    counts = totals(campaign_id)
    skipped = {name.removeprefix("skipped_"): n for name, n in sorted(counts.items()) if name.startswith("skipped_")}
    sent, responded = counts.get("sent", 0), counts.get("responses", 0)
    return {
        "invited": counts.get("invited", 0),
        "sent": sent,
        "bounced": counts.get("bounced", 0),
        "complained": counts.get("complained", 0),
        "unsubscribed": counts.get("unsubscribed", 0),
        "suppressed": skipped.get("suppressed", 0),
        "skipped": {"total": sum(skipped.values()), "reasons": skipped},
        "failed": counts.get("failed", 0),
        "failed_reasons": {
            name.removeprefix("failed_"): n for name, n in sorted(counts.items()) if name.startswith("failed_")
        },
        "reminders_sent": counts.get("reminders", 0),
        "scanner_clicks_filtered": counts.get("filtered", 0) + counts.get("trap_hits", 0),
        "scanner": {
            "answers_held": counts.get("filtered", 0),
            "awaiting_confirmation": counts.get("held", 0),
            "trap_hits": counts.get("trap_hits", 0),
        },
        "responded": responded,
        "responded_unmailed": counts.get("responses_unmailed", 0),
        "response_rate": nps.rate(nps.mailed_responses(counts), sent),
        "comments": counts.get("comments", 0),
        "comment_rate": nps.rate(counts.get("comments", 0), responded),
    }


def sending_progress(counts: dict) -> dict[str, int]:
    """Invitations sent, pending, failed and skipped, from `campaign_stats`; `done` is all but the pending.
    An answer posted through the v1 API has an invitation that is never mailed (`not_mailed`, the
    forecast's "answered, not mailed"): it is not pending. Counters move within a minute of each send, so
    `pending` (invited less the others) may lag as much."""
    invited, sent, failed = counts["invited"], counts["sent"], counts["failed"]
    skipped, not_mailed = counts["skipped"]["total"], counts["responded_unmailed"]
    pending = max(0, invited - sent - failed - skipped - not_mailed)
    return {
        "invited": invited,
        "sent": sent,
        "pending": pending,
        "failed": failed,
        "skipped": skipped,
        "not_mailed": not_mailed,
        "done": invited - pending,
    }
