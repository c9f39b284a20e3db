"""What one response adds to its campaign's counters, as plain numbers.

Counter items are keyed by campaign, period and segment (see docs/data-model.md). A response
contributes a bag of named integers; an edit applies `delta(old, new)`, so any sequence of
atomic writes telescopes to the contribution of the final answer, whatever the interleaving.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib import nps
from chalicelib.surveys import Survey

ALL_SEGMENT = "_"
NO_VALUE = "(none)"
CODE_LENGTH = 8
CATEGORY_COUNTERS = {nps.PROMOTER: "promoters", nps.PASSIVE: "passives", nps.DETRACTOR: "detractors"}


def week_period(epoch: float, timezone: str) -> str:
    """The ISO week in the campaign's time zone, so a Monday digest covers Monday to Sunday there."""
    year, week, _ = datetime.fromtimestamp(epoch, ZoneInfo(timezone)).isocalendar()
    return f"W#{year}-W{week:02d}"


def segment_label(value: Any) -> str:
    text = str(value).strip()[:64] if value is not None else ""
    return text or NO_VALUE


def segment_code(value: Any) -> str:
    """8 base32 characters (40 bits) naming a segment value without revealing it."""
    digest = hashlib.sha256(segment_label(value).encode()).digest()
    return base64.b32encode(digest[:5]).decode().lower()


def segment_codes(properties: Mapping[str, Any], segments: Sequence[str]) -> str:
    """The codes of an invitation's segment values, concatenated; carried in its signed link."""
    return "".join(segment_code(properties.get(name)) for name in segments)


def segment_keys(segments: Sequence[str], codes: str) -> list[str]:
    if len(codes) != CODE_LENGTH * len(segments):
        raise ValueError(f"{len(codes)} code characters for {len(segments)} segments")
    return [
        ALL_SEGMENT,
        *(f"{name}:{codes[i * CODE_LENGTH : (i + 1) * CODE_LENGTH]}" for i, name in enumerate(segments)),
    ]


def segment_labels(properties: Mapping[str, Any], segments: Sequence[str]) -> dict[str, str]:
    """Readable values of an invitation's segment keys, stored once so reports can name them."""
    return {f"{name}:{segment_code(properties.get(name))}": segment_label(properties.get(name)) for name in segments}


def counter_keys(period: str, segments: Sequence[str], codes: str) -> list[str]:
    return [f"{period}#{seg}" for seg in segment_keys(segments, codes)]


def contribution(survey: Survey, answers: Mapping[str, Any], comment: str | None) -> dict[str, int]:
    """The counts one recorded response adds; empty when nothing is answered."""
    if not answers:
        return {}
    counts = {"responses": 1}
    if comment:
        counts["comments"] = 1
    nps_question = survey.nps_question
    if nps_question and nps_question.id in answers:
        counts[CATEGORY_COUNTERS[nps.category(answers[nps_question.id])]] = 1
    for qid, value in answers.items():
        question = survey.question(qid)
        if question is None:
            continue
        prefix = f"q.{qid}."
        counts[prefix + "n"] = 1
        if question.is_scale:
            counts[prefix + "sum"] = value
            counts[prefix + "sq"] = value * value
            counts[f"{prefix}v{value}"] = 1
        elif question.type in ("single_choice", "multi_choice"):
            for choice in [value] if isinstance(value, str) else value:
                if choice in question.options:
                    counts[f"{prefix}o{question.options.index(choice)}"] = 1
    return {name: value for name, value in counts.items() if value}


def delta(old: Mapping[str, int], new: Mapping[str, int]) -> dict[str, int]:
    """new minus old, zeros left out."""
    changes = {k: new.get(k, 0) - old.get(k, 0) for k in set(old) | set(new)}
    return {k: v for k, v in sorted(changes.items()) if v}
