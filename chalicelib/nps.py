"""Net Promoter statistics: pure functions over counts."""

from __future__ import annotations

PROMOTER, PASSIVE, DETRACTOR = "promoter", "passive", "detractor"
CATEGORIES = (PROMOTER, PASSIVE, DETRACTOR)


def category(score: int) -> str:
    """Derived from the 0-10 score, never entered (Reichheld 2003, The One Number You Need to Grow)."""
    if not 0 <= score <= 10:
        raise ValueError(f"an NPS score is 0 to 10, not {score}")
    if score >= 9:
        return PROMOTER
    if score >= 7:
        return PASSIVE
    return DETRACTOR
