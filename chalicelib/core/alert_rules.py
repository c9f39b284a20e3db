"""Which answers need a personal call: alert rules, parsed from a campaign's options and matched
against an answer. Pure, so campaigns can check the rules and the counting applier apply them.

A rule is an object whose conditions must all hold: `{"category": "detractor"}` (the
default), `{"max_score": 4}`, `{"theme": "pricing"}`, `{"property": "plan", "equals":
"enterprise"}`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chalicelib.core.errors import ValidationError
from chalicelib.core.themes import detect

DEFAULT_RULES = ({"category": "detractor"},)
RULE_KEYS = {"category", "max_score", "min_score", "theme", "property", "equals"}
SCORES = (0, 10)  # the lowest and highest score of any scale (NPS 0-10; CSAT, CES and ratings within)
SCORE_WORDS = {"max_score": "Score at most", "min_score": "Score at least"}  # the dashboard's labels


def parse_rules(value: Any, field: str = "options.alert_rules") -> list[dict]:
    if not isinstance(value, list) or len(value) > 10:
        raise ValidationError("alert_rules is a list of up to 10 rules.", field)
    rules = []
    for i, rule in enumerate(value):
        path = f"{field}[{i}]"
        if not isinstance(rule, Mapping) or not rule or set(rule) - RULE_KEYS:
            raise ValidationError(f"A rule uses only {', '.join(sorted(RULE_KEYS))}.", path)
        if "category" in rule and rule["category"] not in ("promoter", "passive", "detractor"):
            raise ValidationError("category is promoter, passive or detractor.", f"{path}.category")
        for key in ("max_score", "min_score"):
            if key in rule and (not isinstance(rule[key], int) or isinstance(rule[key], bool)):
                raise ValidationError(f"{SCORE_WORDS[key]} ({key}) is a whole number.", f"{path}.{key}")
        if rule.get("min_score", SCORES[0]) > SCORES[1] or rule.get("max_score", SCORES[1]) < SCORES[0]:
            key = "min_score" if rule.get("min_score", SCORES[0]) > SCORES[1] else "max_score"
            raise ValidationError(
                f"This rule can never fire: scores run from {SCORES[0]} to {SCORES[1]} on every scale ({key}).",
                f"{path}.{key}",
            )
        if "min_score" in rule and "max_score" in rule and rule["min_score"] > rule["max_score"]:
            raise ValidationError(
                f"This rule can never fire: no score is at least {rule['min_score']} (min_score)"
                f" and at most {rule['max_score']} (max_score).",
                f"{path}.min_score",
            )
        if ("property" in rule) != ("equals" in rule):
            raise ValidationError("property and equals go together.", path)
        rules.append(dict(rule))
    return rules


def matches(
    rules: Sequence[Mapping],
    score: int | None,
    category: str | None,
    comment: str | None,
    properties: Mapping[str, Any],
    themes: Mapping[str, Sequence[str]],
) -> bool:
    """True when any rule holds for this answer."""
    found = detect(comment, themes)
    for rule in rules:
        checks = [
            "category" not in rule or rule["category"] == category,
            "max_score" not in rule or (score is not None and score <= rule["max_score"]),
            "min_score" not in rule or (score is not None and score >= rule["min_score"]),
            "theme" not in rule or rule["theme"] in found,
            "property" not in rule or str(properties.get(rule["property"], "")) == str(rule["equals"]),
        ]
        if all(checks):
            return True
    return False
