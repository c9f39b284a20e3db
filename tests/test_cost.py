"""docs/cost.md is what infra/cost.py computes from the bench figures, the app and the prices."""

from __future__ import annotations

import pytest

from infra import cost
from infra.stages import load_stages

IDLE = "Idle: prod, nobody answering"


@pytest.fixture(scope="module")
def facts() -> cost.AppFacts:
    return cost.app_facts()


def test_the_committed_cost_document_is_what_the_script_generates(facts):
    generated = cost.render(cost.load_results(), load_stages(), facts)
    assert generated == cost.DOCUMENT.read_text(), "docs/cost.md is stale: run `make cost`"


def test_an_idle_production_stage_costs_under_a_dollar_a_month(facts):
    full, after_free_tier = cost.totals(cost.load_results(), load_stages(), facts)[IDLE]
    assert after_free_tier < 1.0
    assert full > after_free_tier  # alarms and the dashboard are not free; the document says so


def test_ses_is_billed_per_thousand_messages_for_every_invitation_and_acknowledgement(facts):
    usage = cost.usage_of([load_stages()["prod"]], 10_000, cost.load_results(), facts)
    per_response = cost.INVITATIONS_PER_RESPONSE + cost.ACKNOWLEDGEMENTS_PER_RESPONSE
    assert usage["ses_messages"] == 10_000 * per_response
    assert cost.bill(usage, with_free_tier=True)["ses_messages"] == pytest.approx(10_000 * per_response * 0.10 / 1000)


def test_the_bill_grows_with_responses_and_never_goes_below_idle(facts):
    totals = list(cost.totals(cost.load_results(), load_stages(), facts).values())
    idle, _, ten_thousand, million = totals
    assert idle[0] < ten_thousand[0] < million[0]
    assert idle[1] <= ten_thousand[1] < million[1]


def test_placeholder_figures_are_flagged_in_the_document(facts):
    results = cost.load_results()
    measured = {key: value for key, value in results.items() if key not in ("placeholder", "note")}
    assert "placeholders" not in cost.render(measured, load_stages(), facts)
    assert ("placeholders" in cost.render(results, load_stages(), facts)) == bool(results.get("placeholder"))
