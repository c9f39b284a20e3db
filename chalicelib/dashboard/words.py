"""The sending's reason codes in words, one wording for every dashboard page that shows them.

delivery.py records why an invitation was skipped or failed as `kind:detail` (`suppressed:bounced`,
`fatigue:surveyed recently`, `template:options.subject: ...`); the campaign stats count skips and
failures by their kind alone (`suppressed`, `template`). The Overview, the Send tab and the Recipients tab show them
through `reason_text`, so a CX lead reads the same words everywhere.
"""

from __future__ import annotations

FAILED = {
    "template": "A subject or intro template fails for this contact",
    "message": "A header cannot carry a value",
    "rejected": "Refused by the mail provider",
    "gave_up": "Still failing after every retry",
    "error": "An error while sending",
}
SKIPPED = {
    "cancelled": "The campaign was cancelled",
    "removed": "No longer a member of this recurring campaign",
}


def fatigue_text(days: int) -> str:
    """The fatigue window as a page states it; `days` 0 means there is none."""
    if days <= 0:
        return "There is no fatigue window: people surveyed recently by another campaign are not skipped"
    return f"People surveyed by any campaign within the last {days} days (the fatigue window) are skipped"


def reason_text(reason: str | None, days: int) -> str:
    """A reason code (`suppressed:bounced`, `fatigue:surveyed recently`, or a failure's kind) in words;
    `days` is the campaign's fatigue window. An unknown code is shown as it is, its colon spaced."""
    if not reason:
        return ""
    kind, _, detail = reason.partition(":")
    if kind == "suppressed":
        return f"Suppressed: {detail}" if detail else "Suppressed (on the suppression list)"
    if kind == "fatigue":
        if days <= 0:
            return "Surveyed recently by another campaign (fatigue window, since turned off)"
        return f"Surveyed within the last {days} days (fatigue window)"
    if reason in SKIPPED:
        return SKIPPED[reason]
    if kind in FAILED:
        return f"{FAILED[kind]}: {detail}" if detail else FAILED[kind]
    return reason.replace(":", ": ", 1) if detail else reason
