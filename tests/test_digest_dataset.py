"""Twelve weeks of a campaign, seeded through the real code, read back by the digest, the metrics API and the CSV.

Invitations are imported and sent each week with an injected clock (the work queue is
drained at that time), answers recorded with `responses.record` at a time in the past, and
the applier run, exactly as production does it minute by minute. The campaign is in New
York, so its weeks run from Monday 00:00 there. Expected values are computed here from the
seed with chalicelib.core.nps; the headline's arithmetic is also written out by hand in
tests/test_digest.py (the same 40-12-12 week against 12-10-14).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from chalice.test import Client

from chalicelib.answers import counting, responses
from chalicelib.campaigns import campaigns
from chalicelib.core import nps
from chalicelib.core.config import get_settings
from chalicelib.core.signing import InvitationRef
from chalicelib.insight import digest
from chalicelib.loop import followups
from chalicelib.queue import get_queue
from chalicelib.sending import imports
from chalicelib.sending.invitations import invitation_id
from tests.conftest import ROOT, admin_headers, local_settings, read_outbox
from tests.helpers import drain

pytestmark = pytest.mark.slow

ZONE = ZoneInfo("America/New_York")
W47 = date(2026, 11, 16)  # Monday of ISO week 47, the week the digest of Monday 23 November covers
MONDAYS = [W47 - timedelta(weeks=11 - i) for i in range(12)]  # W36 .. W47
DIGEST_TIME = datetime(2026, 11, 23, 8, 5, tzinfo=ZONE).timestamp()
SURVEY = {
    "questions": [
        {"id": "nps", "type": "nps", "text": "How likely are you to recommend Acme?"},
        {"id": "csat", "type": "csat", "text": "How satisfied are you with support?"},
        {"id": "ces", "type": "ces", "text": "How easy was it to get what you needed?"},
    ]
}
THEMES = {"pricing": ["price", "expensive"], "support": ["support"]}


def at(day: date, hour: int, minute: int = 0) -> float:
    return datetime.combine(day, time(hour, minute), ZONE).timestamp()


@dataclass
class Seed:
    email: str
    plan: str
    region: str
    score: int | None  # None: invited, never answered
    answered_at: float = 0.0
    comment: str | None = None
    company: str = "Acme"

    @property
    def csat(self) -> int:
        return {nps.PROMOTER: 5, nps.PASSIVE: 4, nps.DETRACTOR: 2}[nps.category(self.score)]

    @property
    def ces(self) -> int:
        return {nps.PROMOTER: 6, nps.PASSIVE: 5, nps.DETRACTOR: 3}[nps.category(self.score)]


def week_seeds(week: int, monday: date) -> list[Seed]:
    """W36-W45: six invitations a week, five answered with scores that move from week to week.
    W46: 40 invitations, 12 promoters, 10 passives, 14 detractors. W47: 70 invitations, pro
    28-4-2 (34), free 12-8-10 (30, of which 8 in apac: 2-2-4), 6 unanswered; comments, themes,
    a formula in a comment and in a property, three answers on Sunday."""
    wed = monday + timedelta(days=2)
    if week < 10:
        scores = [(week * 4 + k * 3) % 11 for k in range(5)] + [None]
        return [
            Seed(f"w{week}-{k}@example.com", ("pro", "free")[k % 2], "eu", s, at(wed, 10, k))
            for k, s in enumerate(scores)
        ]
    if week == 10:
        scores = [10] * 6 + [9] * 6 + [8] * 5 + [7] * 5 + [6, 5, 4, 3, 2, 1, 0] * 2 + [None] * 4
        return [
            Seed(f"w46-{k}@example.com", ("pro", "free")[k % 2], "eu", s, at(wed + timedelta(days=k % 4), 9, k))
            for k, s in enumerate(scores)
        ]
    seeds: list[Seed] = []

    def add(plan: str, region: str, scores: list[int | None]) -> None:
        for score in scores:
            n = len(seeds)
            day = wed + timedelta(days=n % 3)  # Wednesday to Friday
            seeds.append(Seed(f"w47-{n}@example.com", plan, region, score, at(day, 9, n % 60)))

    add("pro", "eu", [10] * 20 + [9] * 8 + [8, 8, 7, 7] + [3, 0] + [None] * 3)
    add("free", "eu", [10] * 5 + [9] * 5 + [8] * 3 + [7] * 3 + [6, 5, 4, 2, 1, 0] + [None] * 3)
    add("free", "apac", [9, 10, 8, 7, 6, 6, 2, 0])
    comments = {
        33: "Too expensive for what it does",  # pro, score 0
        58: "Support never answered my ticket",  # free eu, score 0
        57: "The price went up again",  # free eu, score 1
        56: "Slow and expensive",  # free eu, score 2
        68: "Nobody from support called back",  # apac, score 2
        69: "Cancelled: the price is too high",  # apac, score 0
        0: "Love it",  # a promoter
        30: '=HYPERLINK("http://evil.example","click")',  # a passive, formula injection attempt
    }
    for n, text in comments.items():
        seeds[n].comment = text
    seeds[5].company = "@SUM(1+1)"
    sunday = W47 + timedelta(days=6)
    for n, hour in ((57, 20), (1, 11), (2, 12)):  # a detractor and two promoters answer on Sunday
        seeds[n].answered_at = at(sunday, hour)
    seeds[33].answered_at = at(W47 + timedelta(days=3), 9)  # Thursday: contact overdue by Monday
    seeds[58].answered_at = at(W47 + timedelta(days=3), 10)
    return seeds


@dataclass
class Dataset:
    campaign: campaigns.CampaignView
    weeks: list[list[Seed]]
    outbox: object
    client: Client


def seed_campaign() -> tuple[campaigns.CampaignView, list[list[Seed]]]:
    settings, queue = get_settings(), get_queue()
    created = at(MONDAYS[0], 9)
    body = {"name": "Acme NPS", "survey": SURVEY, "segments": ["plan", "region"], "timezone": "America/New_York"}
    campaign = campaigns.create_campaign(
        campaigns.parse_campaign({**body, "options": {"company": "Acme", "themes": THEMES}}), created
    )
    weeks = [week_seeds(i, monday) for i, monday in enumerate(MONDAYS)]
    for i, (monday, seeds) in enumerate(zip(MONDAYS, weeks, strict=True)):
        sent_at = at(monday + timedelta(days=1), 10)
        rows = [
            {"email": s.email, "properties": {"plan": s.plan, "region": s.region, "company": s.company}} for s in seeds
        ]
        imports.start(campaign, list(enumerate(rows)), "recipients", sent_at, settings, queue)
        if i == 0:
            campaigns.start_sending(campaign.id, sent_at, None, queue)
        drain(lambda sent_at=sent_at: sent_at)
    view = campaigns.get_view(campaign.id)
    for seeds in weeks:
        for s in (s for s in seeds if s.score is not None):
            ref = InvitationRef(campaign.id, invitation_id(campaign.id, s.email), 2**40)
            answer = responses.Submission({"nps": s.score, "csat": s.csat, "ces": s.ces}, s.comment, "submit")
            assert responses.record(ref, view, answer, s.answered_at, settings).status == "recorded"
    while sum(counting.apply_pending().values()):
        pass
    # every detractor opened a case (48 hours to a personal contact); the team has called all of them
    # but three, recorded through the loop as a CX lead would
    waiting = {weeks[11][n].email for n in (33, 58, 57)}
    for seeds in weeks:
        for s in seeds:
            if s.score is not None and s.score <= 6 and s.email not in waiting:
                note = {"status": "contacted", "note": "Called"}
                followups.set_loop_status(invitation_id(campaign.id, s.email), note, "cx@acme.example", s.answered_at)
    while sum(counting.apply_pending().values()):
        pass
    return view, weeks


@pytest.fixture(scope="module")
def dataset(dynamodb_endpoint, tmp_path_factory):
    scratch = tmp_path_factory.mktemp("dataset")
    outbox = scratch / "outbox"
    with pytest.MonkeyPatch.context() as patch:
        for key, value in local_settings(dynamodb_endpoint, outbox, scratch).items():
            patch.setenv(key, value)
        from chalicelib.store.tables import create_tables, delete_tables

        create_tables()
        try:
            campaign, weeks = seed_campaign()
            with Client(__import__("app").app, stage_name="local", project_dir=str(ROOT)) as client:
                yield Dataset(campaign, weeks, outbox, client)
        finally:
            delete_tables()


def tally(seeds: list[Seed]) -> tuple[int, int, int]:
    categories = [nps.category(s.score) for s in seeds if s.score is not None]
    return tuple(categories.count(c) for c in nps.CATEGORIES)  # type: ignore[return-value]


def whole(value: float) -> int:
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def figure(text: str) -> tuple[int, int, int]:
    """(score, low, high) of "+44 (+23 to +61)", or of "+20 ± 5" (low and high are then 15 and 25)."""
    if m := re.fullmatch(r"([+-]?\d+) ± (\d+)", text):
        return int(m[1]), int(m[1]) - int(m[2]), int(m[1]) + int(m[2])
    m = re.fullmatch(r"([+-]?\d+) \(([+-]?\d+) to ([+-]?\d+)\)", text)
    return int(m[1]), int(m[2]), int(m[3])


def parse_digest(text: str) -> dict:
    """The numbers a reader takes from the plain-text part."""
    head = re.search(r"^NPS ([+-]?\d+) \(95% interval ([+-]?\d+) to ([+-]?\d+), (\d+) answers\)$", text, re.M)
    trend = {
        week: (*figure(m[1]), int(m[2])) if (m := re.match(r"(.+), (\d+) answers?$", rest)) else rest
        for week, rest in re.findall(r"^  (W\d\d) \([^)]*\): (.+)$", text, re.M)
    }
    segments = {}
    for value, rest in re.findall(r"^    (\S+): (.+)$", text, re.M):
        m = re.match(r"NPS (.+), (\d+) answers(  <- weakest)?$", rest)
        small = re.match(r"too small to judge \((\d+) answers?; fewer than 30\)$", rest)
        segments[value] = (*figure(m[1]), int(m[2]), bool(m[3])) if m else ("too small", int(small[1]))
    return {
        "nps": tuple(int(g) for g in head.groups()),
        "change": re.search(r"^Change: (.+)$", text, re.M)[1],
        "figures": dict(re.findall(r"^(Invitations sent|Responses|Response rate|Comment rate): (.+)$", text, re.M)),
        "trend": trend,
        "segments": segments,
        "verdicts": re.findall(r"^  ((?:Weakest|Only) .+)$", text, re.M),
        "comments": re.findall(r'^  (\d+)/10 from (\S+), [^:]+:\d\d: "(.*)"$', text, re.M),
        "cases": re.search(r"^Detractors still waiting for a personal contact: (\d+)$", text, re.M)[1],
        "waiting": re.findall(r"^  (\S+) \((\d+)/10\), waiting (\d+) hours", text, re.M),
    }


def expected_nps(p: int, pa: int, d: int) -> tuple[int, int, int, int]:
    s, i = nps.summary(p, pa, d), nps.adjusted_wald(p, pa, d)
    return whole(s.nps), whole(i.low), whole(i.high), s.n


def test_the_weekly_digest_shows_the_right_numbers_and_the_schedule_firing_twice_sends_each_once(dataset):
    client = dataset.client
    recipients = [
        "cx@acme.example",
        {"email": "lead@acme.example", "frequency": "daily"},
        {"email": "cfo@acme.example", "frequency": "monthly"},
        {"email": "gone@acme.example", "frequency": "stopped"},
    ]
    put = client.http.put(
        f"/api/campaigns/{dataset.campaign.id}/digest-recipients",
        headers=admin_headers(),
        body=__import__("json").dumps({"recipients": recipients}),
    )
    assert put.status_code == 200, put.body

    first = digest.send_due(DIGEST_TIME)
    again = digest.send_due(DIGEST_TIME + 60)  # EventBridge delivered the event twice
    later = digest.send_due(DIGEST_TIME + 3600)  # the 09:00 catch-up run
    assert first == {"sent": 2} and again == {"already_claimed": 2} and later == {"already_claimed": 2}
    messages = {str(m["To"]): m for m in read_outbox(dataset.outbox) if str(m["To"]).endswith("@acme.example")}
    assert sorted(messages) == ["cx@acme.example", "lead@acme.example"]

    weekly = messages["cx@acme.example"]
    text = weekly.get_body(("plain",)).get_content()
    got = parse_digest(text)
    current, previous = dataset.weeks[11], dataset.weeks[10]
    assert tally(current) == (40, 12, 12) and tally(previous) == (12, 10, 14)
    # by hand (tests/test_digest.py): NPS 43.75 -> +44, adjusted-Wald interval +23 to +61
    assert got["nps"] == expected_nps(40, 12, 12) == (44, 23, 61, 64)
    change = nps.compare(nps.summary(40, 12, 12), nps.summary(12, 10, 14))
    assert change.significant
    assert got["change"] == "up 49 points since week 46, a real change (p = 0.005)"
    assert got["figures"] == {
        "Invitations sent": "70 (up 30 on week 46 (40))",
        "Responses": "64 (up 28 on week 46 (36))",
        "Response rate": "91% (up 1 point on week 46 (90%), within the noise)",
        # 8 comments of 64 = 12.5% -> 13%; against 0 of 36: pooled 8/100, z = 0.125/0.056519 = 2.21, p = 0.027
        "Comment rate": "13% (up 13 points on week 46 (0%), a real rise (p = 0.03))",
    }
    for monday, seeds in zip(MONDAYS, dataset.weeks, strict=True):
        week = f"W{monday.isocalendar()[1]}"
        assert got["trend"][week] == expected_nps(*tally(seeds)), week
    pro = tally([s for s in current if s.plan == "pro"])
    free = tally([s for s in current if s.plan == "free"])
    eu = tally([s for s in current if s.region == "eu"])
    assert (pro, free, eu) == ((28, 4, 2), (12, 8, 10), (38, 10, 8))
    assert got["segments"] == {
        "pro": (*expected_nps(*pro), False),
        "free": (*expected_nps(*free), True),
        "eu": (*expected_nps(*eu), False),
        "apac": ("too small", 8),
    }
    # free by hand: NPS 100 * (12 - 10)/30 = 6.67 -> +7; n' = 33, p' = 12.75/33 = 0.386364,
    # d' = 10.75/33 = 0.325758, NPS' = 0.060606, Var' = 0.712121 - 0.003673 = 0.708448,
    # margin = 1.96 * sqrt(0.708448/33) = 1.96 * 0.146521 = 0.28718: 6.06 - 28.72 = -22.66 to 34.78
    assert got["segments"]["free"][:4] == (7, -23, 35, 30)
    gap = nps.compare(nps.summary(*free), nps.summary(*pro))
    assert got["verdicts"] == [
        f"Weakest plan: free, NPS +7 against +76 for everyone else, a real gap ({nps.format_p(gap.p_value)}).",
        "Only eu has 30 answers or more: nothing to compare it with.",
    ]
    # the newest detractor comments first; the open cases overdue by Monday 08:05 (the Sunday one is not yet)
    # (Sunday 20:00, Friday 9:56, Friday 9:08, Thursday 10:00, Thursday 9:00; Wednesday's is the sixth)
    assert [c[2] for c in got["comments"]] == [
        "The price went up again",
        "Slow and expensive",
        "Nobody from support called back",
        "Support never answered my ticket",
        "Too expensive for what it does",
    ]
    assert got["cases"] == "2"
    assert [w[0] for w in got["waiting"]] == [current[33].email, current[58].email]
    assert "  pricing: 4 (50% of comments), 0 in week 46" in text
    assert weekly["Subject"] == "Acme NPS, week 47: NPS +44, 64 answers"
    assert weekly["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    daily = messages["lead@acme.example"].get_body(("plain",)).get_content()
    sunday = [s for s in current if s.score is not None and s.answered_at >= at(W47 + timedelta(days=6), 0)]
    assert tally(sunday) == (2, 0, 1)
    assert "Daily digest, Sunday, 22 November 2026" in daily
    assert "Responses: 3 (up 3 on Sat 21 Nov (0))" in daily
    assert parse_digest(daily)["nps"] == expected_nps(2, 0, 1)


def test_the_metrics_api_gives_the_nps_functions_numbers_per_segment(dataset):
    client, cid = dataset.client, dataset.campaign.id
    current = dataset.weeks[11]
    for segment, seeds in (
        ("", current),
        ("plan:pro", [s for s in current if s.plan == "pro"]),
        ("plan:free", [s for s in current if s.plan == "free"]),
        ("region:apac", [s for s in current if s.region == "apac"]),
    ):
        query = f"since=2026-11-16&until=2026-11-22&property={segment}"
        got = client.http.get(f"/api/campaigns/{cid}/metrics?{query}", headers=admin_headers()).json_body
        p, pa, d = tally(seeds)
        summary, interval = nps.summary(p, pa, d), nps.adjusted_wald(p, pa, d)
        assert got["nps"]["score"] == pytest.approx(summary.nps, abs=0.005), segment
        assert got["nps"]["n"] == summary.n
        assert got["nps"]["interval"]["low"] == pytest.approx(interval.low, abs=0.005)
        assert got["nps"]["interval"]["high"] == pytest.approx(interval.high, abs=0.005)
        assert got["nps"]["interval"]["margin"] == pytest.approx(interval.margin, abs=0.005)
        assert got["nps"]["wald"]["se"] == pytest.approx(nps.wald_se(p, pa, d), abs=1e-6)
        answered = [s for s in seeds if s.score is not None]
        satisfied = nps.csat(sum(s.csat >= 4 for s in answered), len(answered))
        (csat,) = got["csat"]
        assert (csat["satisfied"]["share"], csat["satisfied"]["low"], csat["satisfied"]["high"]) == (
            pytest.approx(satisfied.share, abs=1e-4),
            pytest.approx(satisfied.low, abs=1e-4),
            pytest.approx(satisfied.high, abs=1e-4),
        )
        effort = nps.mean_interval(len(answered), sum(s.ces for s in answered), sum(s.ces**2 for s in answered))
        (ces,) = got["ces"]
        assert (ces["mean"]["mean"], ces["mean"]["low"], ces["mean"]["high"]) == (
            pytest.approx(effort.mean, abs=1e-4),
            pytest.approx(effort.low, abs=1e-4),
            pytest.approx(effort.high, abs=1e-4),
        )
        assert got["period"]["days_summed"] == 7 and got["period"]["summed"].startswith("day counters 2026-11-16 to")
        assert got["rates"]["sent"] == len(seeds)
    whole_run = client.http.get(f"/api/campaigns/{cid}/metrics", headers=admin_headers()).json_body
    everything = [s for week in dataset.weeks for s in week]
    assert whole_run["nps"]["score"] == pytest.approx(nps.summary(*tally(everything)).nps, abs=0.005)
    assert whole_run["period"]["granularity"] == "week"
    bad = client.http.get(f"/api/campaigns/{cid}/metrics?property=country:fr", headers=admin_headers())
    assert bad.status_code == 400 and bad.json_body["error"]["field"] == "property"


def test_the_trend_api_gives_twelve_weeks_with_their_intervals(dataset):
    got = dataset.client.http.get(
        f"/api/campaigns/{dataset.campaign.id}/trend?weeks=12&until=2026-11-22&property=plan:pro",
        headers=admin_headers(),
    ).json_body
    assert [w["week"] for w in got["weeks"]] == [f"2026-W{m.isocalendar()[1]}" for m in MONDAYS]
    for week, seeds in zip(got["weeks"], dataset.weeks, strict=True):
        p, pa, d = tally([s for s in seeds if s.plan == "pro"])
        if p + pa + d == 0:
            assert week["nps"] is None
            continue
        assert week["nps"] == pytest.approx(nps.summary(p, pa, d).nps, abs=0.005)
        assert week["margin"] == pytest.approx(nps.adjusted_wald(p, pa, d).margin, abs=0.005)


def test_the_csv_export_pages_every_response_with_its_answers_and_properties_and_defuses_formulas(dataset):
    client, cid = dataset.client, dataset.campaign.id
    url, pages, rows = f"/api/campaigns/{cid}/responses.csv?limit=40", 0, []
    while url:
        response = client.http.get(url, headers=admin_headers())
        assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
        lines = response.body.decode().split("\r\n")
        header = lines[0].split(",")
        rows += [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
        link = response.headers.get("Link")
        pages += 1
        url = None
        if link:
            target = re.match(r'<([^>]+)>; rel="next"', link)[1]
            assert parse_qs(urlsplit(target).query)["limit"] == ["40"]
            url = target.replace("http://127.0.0.1:8000", "")
    answered = [s for week in dataset.weeks for s in week if s.score is not None]
    assert pages == -(-len(answered) // 40) and len(rows) == len(answered)
    assert header[:7] == ["response_id", "email", "answered_at", "updated_at", "score", "category", "comment"]
    assert header[7:] == [
        "q.nps",
        "q.csat",
        "q.ces",
        "property.plan",
        "property.region",
        "property.company",
        "loop_status",
    ]
    by_email = {r["email"]: r for r in rows}
    seed = dataset.weeks[11][0]
    row = by_email[seed.email]
    assert (row["score"], row["category"], row["q.csat"], row["q.ces"], row["property.plan"]) == (
        "10",
        "promoter",
        "5",
        "6",
        "pro",
    )
    assert row["answered_at"] == datetime.fromtimestamp(seed.answered_at, ZONE).astimezone(ZoneInfo("UTC")).isoformat()
    assert by_email[dataset.weeks[11][5].email]["property.company"] == "'@SUM(1+1)"
    raw = "".join(
        client.http.get(f"/api/campaigns/{cid}/responses.csv?limit=1000", headers=admin_headers()).body.decode()
    )
    assert '"\'=HYPERLINK(""http://evil.example"",""click"")"' in raw
    assert "=HYPERLINK" not in raw.replace("'=HYPERLINK", "")
