"""Campaigns: a survey, who is asked, and how the invitation reads.

The survey definition is read on every answer, so `get_campaign()` keeps it in memory
for `CLOSELOOP_CAMPAIGN_CACHE_SECONDS` across warm invocations; a survey cannot change
once its campaign has been sent, so a cached copy is never wrong about the questions.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.config import get_settings
from chalicelib.contacts import email_problem, normalize_email
from chalicelib.errors import NotFound, ValidationError
from chalicelib.signing import new_id
from chalicelib.store import bind
from chalicelib.store.models import Campaign
from chalicelib.surveys import Survey, parse_survey

MAX_SEGMENTS = 5
_SEGMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
TEXT_OPTIONS = {"subject": 200, "intro": 1000, "company": 100, "sender_name": 100}
DEFAULT_SUBJECT = "A quick question"
DEFAULT_INTRO = "We read every answer, and we will reply to yours."


@dataclass(frozen=True)
class CampaignView:
    """What pages and emails need of a campaign, immutable so it can be cached and shared."""

    id: str
    name: str
    status: str
    survey: Survey
    segments: tuple[str, ...]
    timezone: str
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def company(self) -> str:
        return self.options.get("company") or ""

    @property
    def subject(self) -> str:
        if self.options.get("subject"):
            return self.options["subject"]
        return f"{DEFAULT_SUBJECT} from {self.company}" if self.company else DEFAULT_SUBJECT

    @property
    def intro(self) -> str:
        return self.options.get("intro") or DEFAULT_INTRO

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "survey": self.survey.to_json(),
            "segments": list(self.segments),
            "timezone": self.timezone,
            "options": dict(self.options),
        }


def view(campaign: Campaign) -> CampaignView:
    return CampaignView(
        id=campaign.id,
        name=campaign.name,
        status=campaign.status,
        survey=parse_survey(campaign.survey),
        segments=tuple(campaign.segments or ()),
        timezone=campaign.timezone,
        options=dict(campaign.options or {}),
    )


def parse_campaign(body: Any) -> dict[str, Any]:
    """The fields of a new campaign, validated; a ValidationError names the field at fault."""
    if not isinstance(body, Mapping):
        raise ValidationError("Send a JSON object describing the campaign.")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise ValidationError("A campaign needs a name of 1 to 200 characters.", "name")
    survey = parse_survey(body.get("survey"))
    segments = body.get("segments", [])
    if not isinstance(segments, list) or len(segments) > MAX_SEGMENTS:
        raise ValidationError(f"segments is a list of at most {MAX_SEGMENTS} property names.", "segments")
    for i, seg in enumerate(segments):
        if not isinstance(seg, str) or not _SEGMENT.match(seg):
            raise ValidationError("A segment is a property name: letters, digits, _ . or -.", f"segments[{i}]")
    timezone = body.get("timezone", "UTC")
    try:
        ZoneInfo(timezone) if isinstance(timezone, str) else ZoneInfo("")
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"Unknown time zone {timezone!r}: use an IANA name such as Europe/Paris.", "timezone"
        ) from None
    return {
        "name": name.strip(),
        "survey": survey,
        "segments": list(dict.fromkeys(segments)),
        "timezone": timezone,
        "options": parse_options(body.get("options", {})),
    }


def parse_options(options: Any) -> dict[str, str]:
    if not isinstance(options, Mapping):
        raise ValidationError("options is an object.", "options")
    clean: dict[str, str] = {}
    for key, value in options.items():
        if key in TEXT_OPTIONS:
            if not isinstance(value, str) or len(value) > TEXT_OPTIONS[key]:
                raise ValidationError(f"{key} is text of at most {TEXT_OPTIONS[key]} characters.", f"options.{key}")
            clean[key] = value.strip()
        elif key == "reply_to":
            address = normalize_email(value)
            problem = email_problem(address)
            if problem:
                raise ValidationError(problem, "options.reply_to")
            clean[key] = address
        else:
            raise ValidationError(f"Unknown option {key!r}.", f"options.{key}")
    return clean


def create_campaign(fields: Mapping[str, Any], now: float, campaign_id: str | None = None) -> CampaignView:
    bind()
    campaign = Campaign(
        campaign_id or new_id(8),
        name=fields["name"],
        survey=fields["survey"].to_json(),
        segments=fields["segments"],
        timezone=fields["timezone"],
        options=fields["options"],
        created_at=now,
        updated_at=now,
    )
    campaign.save(condition=Campaign.id.does_not_exist())
    return view(campaign)


def load_campaign(campaign_id: str) -> Campaign:
    bind()
    try:
        return Campaign.get(campaign_id)
    except Campaign.DoesNotExist:
        raise NotFound(f"No campaign {campaign_id!r}.", "campaign_id") from None


_cache: dict[tuple[str, str], tuple[float, CampaignView]] = {}
_cache_lock = threading.Lock()


def get_campaign(campaign_id: str) -> CampaignView | None:
    """The campaign, from memory when fresh; None when it does not exist."""
    settings = bind()
    key = (settings.table_prefix, campaign_id)
    now = time.monotonic()
    hit = _cache.get(key)
    if hit and now - hit[0] < settings.campaign_cache_seconds:
        return hit[1]
    try:
        found = view(Campaign.get(campaign_id))
    except Campaign.DoesNotExist:
        return None
    with _cache_lock:
        _cache[key] = (now, found)
    return found


def forget(campaign_id: str) -> None:
    """Drop a cached copy after a change made in this process."""
    prefix = get_settings().table_prefix
    with _cache_lock:
        _cache.pop((prefix, campaign_id), None)


def mark_sent(campaign_id: str, now: float) -> None:
    bind()
    Campaign(campaign_id).update(
        actions=[Campaign.status.set("sent"), Campaign.updated_at.set(now), Campaign.sent_at.set(now)],
        condition=Campaign.id.exists(),
    )
    forget(campaign_id)
