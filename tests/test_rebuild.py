"""Counters equal a recomputation from the responses, whatever happens; rebuild-counters finds and repairs drift."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.answers import counting, responses
from chalicelib.campaigns import campaigns, suppression
from chalicelib.core import nps
from chalicelib.core.config import get_settings
from chalicelib.core.counters import plain
from chalicelib.core.signing import InvitationRef
from chalicelib.insight import rebuild, stats
from chalicelib.queue import get_queue
from chalicelib.sending import imports
from chalicelib.sending.invitations import invitation_id
from chalicelib.store.counts import add, read
from chalicelib.store.models import Invitation
from chalicelib.store.transact import update
from tests.helpers import cli, drain

T0 = 1_794_787_200  # Monday 2026-11-16 00:00 UTC: sends at T0, activity over the next weeks
SURVEY = {
    "questions": [
        {"id": "nps", "type": "nps", "text": "How likely are you to recommend us?"},
        {"id": "reason", "type": "single_choice", "text": "Why?", "options": ["Price", "Support"]},
    ]
}
THEMES = {"pricing": ["expensive", "price"], "support": ["support"]}
PEOPLE = (("pro", "eu"), ("free", "eu"), ("free", "us"))
_emails = itertools.count()


def start_campaign(people=PEOPLE, sent_at: float = T0) -> tuple[campaigns.CampaignView, list[str]]:
    """A campaign in UTC with segments plan and region, its invitations sent at `sent_at`; fresh addresses."""
    body = {"name": "Rebuild", "survey": SURVEY, "segments": ["plan", "region"], "options": {"themes": THEMES}}
    campaign = campaigns.create_campaign(campaigns.parse_campaign(body), sent_at)
    emails = [f"p{next(_emails)}@example.com" for _ in people]
    rows = [{"email": e, "properties": {"plan": p, "region": r}} for e, (p, r) in zip(emails, people, strict=True)]
    imports.start(campaign, list(enumerate(rows)), "recipients", sent_at, get_settings(), get_queue())
    campaigns.start_sending(campaign.id, sent_at, None, get_queue())
    drain(lambda: sent_at)
    return campaigns.get_view(campaign.id), emails


def ref(campaign: campaigns.CampaignView, email: str) -> InvitationRef:
    return InvitationRef(campaign.id, invitation_id(campaign.id, email), 2**40)


def answer(campaign, email: str, score: int, comment: str | None, now: float) -> responses.Outcome:
    submission = responses.Submission({"nps": score}, comment, "submit")
    return responses.record(ref(campaign, email), campaign, submission, now, get_settings())


# --- The property: any sequence of answers, edits, scanner activity and unsubscribes -------------


@dataclass
class Person:
    """What the system said it did for one invitation: the oracle the counters must agree with."""

    score: int | None = None
    comment: str | None = None
    filtered: int = 0
    held: bool = False  # a person's answer held by a scanner window, until an answer is recorded
    trap_hits: int = 0
    unsubscribed: bool = False
    case_opened: bool = False  # a detractor seen by an applier pass opens a case, once, for good


@dataclass
class Model:
    people: list[Person] = field(default_factory=lambda: [Person() for _ in PEOPLE])

    def applied(self) -> None:
        for p in self.people:
            p.case_opened = p.case_opened or (p.score is not None and p.score <= 6)

    def totals(self) -> dict[str, int]:
        counts: Counter = Counter(invited=len(self.people), sent=len(self.people))
        for p in self.people:
            counts["cases.opened"] += p.case_opened
            counts["filtered"] += bool(p.filtered)  # once per invitation, however many presses
            counts["held"] += p.held
            counts["trap_hits"] += p.trap_hits
            counts["unsubscribed"] += p.unsubscribed
            if p.score is not None:
                counts["responses"] += 1
                counts[
                    {"promoter": "promoters", "passive": "passives", "detractor": "detractors"}[nps.category(p.score)]
                ] += 1
                counts["q.nps.n"] += 1
                counts["q.nps.sum"] += p.score
                counts["q.nps.sq"] += p.score * p.score
                counts[f"q.nps.v{p.score}"] += 1
                counts["comments"] += bool(p.comment)
                counts["theme.pricing"] += bool(p.comment and "expensive" in p.comment)
                counts["theme.support"] += bool(p.comment and "support" in p.comment)
        return {k: v for k, v in counts.items() if v}


COMMENTS = st.sampled_from([None, "", "too expensive", "great support", "meh"])  # None keeps, "" removes
GAPS = st.sampled_from([3, 200, 86_400, 4 * 86_400])  # within the scanner windows, or days later
STEPS = st.one_of(
    st.tuples(st.just("answer"), st.integers(0, 2), st.integers(0, 10), COMMENTS, GAPS),
    st.tuples(st.just("filtered"), st.integers(0, 2), GAPS),
    st.tuples(st.just("trap"), st.integers(0, 2), GAPS),
    st.tuples(st.just("unsubscribe"), st.integers(0, 2), GAPS),
    st.tuples(st.just("apply")),
)


@pytest.mark.slow
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEPS, min_size=1, max_size=14))
def test_counters_always_equal_a_recomputation_from_the_responses(db, steps):
    campaign, emails = start_campaign()
    model, now = Model(), T0 + 2.0
    for step in steps:
        if step[0] == "apply":
            counting.apply_pending()
            model.applied()
            continue
        kind, who, *args, gap = step
        now += gap
        person, email = model.people[who], emails[who]
        if kind == "answer":
            score, comment = args
            outcome = answer(campaign, email, score, comment, now)
            if outcome.status == "recorded":
                person.score = score
                person.comment = person.comment if comment is None else comment or None
                person.held = False
            else:
                assert outcome.status == "held"  # within a scanner window
                person.filtered += 1
                person.held = True
        elif kind == "filtered":  # a script submitted the form without a person's evidence
            submission = responses.Submission({"nps": 5}, None, "")
            assert responses.record_filtered(ref(campaign, email), campaign, submission, "no-evidence", now)
            person.filtered += 1
        elif kind == "trap":
            responses.record_trap(ref(campaign, email), campaign, now)
            person.trap_hits += 1
        else:
            suppression.unsubscribe(invitation_id(campaign.id, email), campaign.id, now)
            person.unsubscribed = True
    rebuild.apply_all()
    model.applied()
    report = rebuild.check(campaign, lambda _line: None)
    assert report.differences == [] and report.outdated == [] and report.moved == [] and report.pending == 0
    assert stats.totals(campaign.id) == model.totals()
    items = read(campaign.id)
    by_day: Counter = Counter()
    for key, counts in items.items():
        if key.startswith("D#") and key.endswith("#_"):
            by_day.update(counts)
    assert {k: v for k, v in by_day.items() if v} == model.totals()  # days and weeks count the same
    plans = Counter(stats.totals(campaign.id, "plan=pro")) + Counter(stats.totals(campaign.id, "plan=free"))
    assert dict(plans) == model.totals()


# --- rebuild-counters, as an operator runs it ------------------------------------------------------


def test_rebuild_reports_every_difference_and_fix_repairs_them_for_good(db):
    campaign, emails = start_campaign()
    for i, (email, score) in enumerate(zip(emails, (10, 3, 8), strict=True)):
        answer(campaign, email, score, "too expensive" if i == 1 else None, T0 + 3600 * (i + 1))
    counting.apply_pending()
    week = "W#2026-W47#_"
    # drift: a stray ADD on the whole-campaign item of the week (a manual repair gone wrong)
    add(campaign.id, [week], {"promoters": 2})
    # an outdated contribution: an invitation counted before keyword themes were counted
    detractor = Invitation.get(invitation_id(campaign.id, emails[1]))
    counted = plain(detractor.counted)
    old = {period: {k: v for k, v in c.items() if not k.startswith("theme.")} for period, c in counted.items()}
    update(Invitation, detractor.id, [Invitation.counted.set(old)])
    for key in [k for k in read(campaign.id) if k.startswith(("W#", "D#"))]:
        add(campaign.id, [key], {"theme.pricing": -read(campaign.id)[key].get("theme.pricing", 0)})

    found = cli("rebuild-counters", "--campaign", campaign.id, env=db)
    assert found.returncode == 1, found.stderr
    lines = found.stdout.splitlines()
    assert f"campaign {campaign.id}: 3 / 3 invitations" in lines
    assert f"  {week}  promoters: stored 3, recomputed 1" in lines
    assert f"  {week}  theme.pricing: stored 0, recomputed 1" in lines
    assert "  W#2026-W47#plan=free  theme.pricing: stored 0, recomputed 1" in lines
    assert "  D#2026-11-16#region=eu  theme.pricing: stored 0, recomputed 1" in lines
    # theme.pricing in the week and day items of the detractor's 3 segments (_, plan=free, region=eu),
    # and promoters in one of them: 7 differences in 6 items
    assert lines[-1] == (
        f"campaign {campaign.id}: 3 invitations, 7 difference(s) in 6 counter item(s), "
        "1 invitation(s) counted by outdated rules; run with --fix to repair"
    )

    fixed = cli("rebuild-counters", "--campaign", campaign.id, "--fix", env=db)
    assert fixed.returncode == 0 and fixed.stdout.splitlines()[-1].endswith("; fixed"), fixed.stdout
    again = cli("rebuild-counters", env=db)  # every campaign, through the all-campaigns index
    assert again.returncode == 0 and again.stdout.splitlines()[-1] == (
        f"campaign {campaign.id}: 3 invitations, 0 difference(s) in 0 counter item(s)"
    )
    # the repair holds when the customer edits their answer later: the applier starts from a true `counted`
    answer(campaign, emails[1], 9, "", T0 + 86_400)
    counting.apply_pending()
    assert rebuild.check(campaign, lambda _line: None).differences == []
    assert stats.totals(campaign.id)["promoters"] == 2 and "theme.pricing" not in stats.totals(campaign.id)


def test_rebuild_prints_progress_and_leaves_items_that_move_during_the_check_alone(db, monkeypatch):
    campaign, emails = start_campaign(PEOPLE * 2)
    counting.apply_pending()
    add(campaign.id, ["W#2026-W47#_"], {"sent": 1})  # drift in the item the answer below will move too
    monkeypatch.setattr(rebuild, "PROGRESS_EVERY", 2)
    read_ids = rebuild.invitation_ids

    def answered_meanwhile(campaign_id):
        ids = read_ids(campaign_id)
        answer(campaign, emails[0], 10, None, T0 + 3600)  # an answer arrives and is applied during the pass
        counting.apply_pending()
        return ids

    monkeypatch.setattr(rebuild, "invitation_ids", answered_meanwhile)
    lines: list[str] = []
    (report,) = rebuild.rebuild(campaign.id, True, lines.append)
    assert lines[:4] == [f"campaign {campaign.id}: {n} / 6 invitations" for n in (2, 4, 6, 6)]
    assert "W#2026-W47#_" in report.moved and "W#2026-W47#_" not in report.drift
    assert lines[-1].endswith("item(s) changed during the check and were not compared: run again")
    assert read(campaign.id)["W#2026-W47#_"]["sent"] == 7  # not "repaired" from a stale reading
    monkeypatch.setattr(rebuild, "invitation_ids", read_ids)
    (calm,) = rebuild.rebuild(campaign.id, True, lines.append)
    assert [d.name for d in calm.differences] == ["sent"] and calm.fixed
    assert read(campaign.id)["W#2026-W47#_"]["sent"] == 6
    assert rebuild.check(campaign, lines.append).differences == []
