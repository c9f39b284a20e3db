"""The digest as a CX lead reads it, built from plain counts: when it is due, what it says, how it warns.

The numbers go through `digest.build` (pure) and the real templates; the dataset test in
tests/test_digest_dataset.py runs the same on DynamoDB Local through the schedule.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.campaigns import campaigns
from chalicelib.core import nps
from chalicelib.core.config import get_settings
from chalicelib.insight import digest, reports

PARIS = ZoneInfo("Europe/Paris")
W47 = digest.Period("weekly", date(2026, 11, 16), date(2026, 11, 22))
SURVEY = {"questions": [{"id": "nps", "type": "nps", "text": "How likely are you to recommend us?"}]}


def campaign(segments=("plan",), timezone="Europe/Paris", survey=SURVEY, options=None) -> campaigns.CampaignView:
    fields = campaigns.parse_campaign(
        {"name": "Q4 NPS", "survey": survey, "segments": list(segments), "timezone": timezone}
    )
    return campaigns.CampaignView(
        id="c1",
        name=fields["name"],
        status="sent",
        survey=fields["survey"],
        segments=tuple(fields["segments"]),
        timezone=fields["timezone"],
        options=options or {},
    )


def answers(promoters: int, passives: int, detractors: int, sent: int = 0, comments: int = 0, **more: int) -> dict:
    counts = {"promoters": promoters, "passives": passives, "detractors": detractors}
    return {**counts, "responses": promoters + passives + detractors, "sent": sent, "comments": comments, **more}


def inputs(current: dict, previous: dict, trend: list[dict] | None = None, **lists) -> digest.Inputs:
    """`current` and `previous` map segment keys to counts; the trend's last week is the current one."""
    mondays = reports.week_mondays(W47.last, 12)
    weeks = [*(trend or [{}] * 10), previous.get("_", {}), current.get("_", {})]
    return digest.Inputs(
        current=current,
        previous=previous,
        trend=[reports.TrendPoint(reports.week_of(m)[2:], m, dict(c)) for m, c in zip(mondays, weeks, strict=True)],
        comments=lists.get("comments", []),
        cases=lists.get("cases", []),
        cases_total=len(lists.get("cases", [])),
        cases_capped=False,
        at=datetime(2026, 11, 23, 8, 5, tzinfo=PARIS).timestamp(),
    )


def text_of(built: digest.Digest) -> str:
    return digest.render_message(built, "cx@acme.example", get_settings()).get_body(("plain",)).get_content()


def html_of(built: digest.Digest) -> str:
    return digest.render_message(built, "cx@acme.example", get_settings()).get_body(("html",)).get_content()


# --- When a digest is due -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "frequency", "covered"),
    [
        ("2026-11-23 08:00", "weekly", ("2026-11-16", "2026-11-22")),  # a Monday
        ("2026-11-23 11:59", "weekly", ("2026-11-16", "2026-11-22")),  # the last catch-up run
        ("2026-11-23 07:59", "weekly", None),
        ("2026-11-23 12:00", "weekly", None),
        ("2026-11-24 08:30", "weekly", None),  # a Tuesday
        ("2026-11-24 08:30", "daily", ("2026-11-23", "2026-11-23")),
        ("2026-12-01 09:15", "monthly", ("2026-11-01", "2026-11-30")),
        ("2026-11-30 09:15", "monthly", None),
        ("2027-01-04 08:00", "weekly", ("2026-12-28", "2027-01-03")),  # ISO week 53 of 2026
    ],
)
def test_a_digest_is_due_from_8_to_noon_on_its_day_and_covers_the_period_before(local, frequency, covered):
    period = digest.due_period(frequency, datetime.fromisoformat(local).replace(tzinfo=PARIS))
    if covered is None:
        assert period is None
    else:
        assert (period.first.isoformat(), period.last.isoformat()) == covered


@pytest.mark.parametrize("timezone", ["Europe/Paris", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"])
def test_hourly_utc_runs_find_the_monday_morning_in_every_time_zone_even_across_a_clock_change(timezone):
    # two weeks of hourly runs in UTC around the end of European summer time (25 Oct 2026) and
    # the start of New Zealand's (27 Sep 2026): Mondays 08:00-11:59 local, 4 runs each, whatever the offset
    zone = ZoneInfo(timezone)
    for start in (datetime(2026, 9, 21, 0, 17, tzinfo=UTC), datetime(2026, 10, 19, 0, 17, tzinfo=UTC)):
        runs = [start + timedelta(hours=h) for h in range(14 * 24)]
        due = [(r, digest.due_period("weekly", r.astimezone(zone))) for r in runs]
        due = [(r, p) for r, p in due if p is not None]
        assert len(due) == 8
        assert {r.astimezone(zone).weekday() for r, _ in due} == {0}
        assert len({p.key for _, p in due}) == 2


def test_previews_show_the_last_complete_period_or_the_one_so_far():
    tuesday = datetime(2026, 11, 24, 20, 0, tzinfo=PARIS).timestamp()
    assert digest.latest_period("weekly", tuesday, "Europe/Paris") == W47
    assert digest.latest_period("weekly", tuesday, "Europe/Paris", so_far=True).key == "W#2026-W48"
    assert digest.latest_period("daily", tuesday, "Europe/Paris").key == "D#2026-11-23"
    assert digest.latest_period("daily", tuesday, "Europe/Paris", so_far=True).key == "D#2026-11-24"
    assert digest.latest_period("monthly", tuesday, "Europe/Paris").key == "M#2026-10"
    assert digest.latest_period("monthly", tuesday, "Europe/Paris", so_far=True).key == "M#2026-11"


def test_period_names_and_keys():
    assert (W47.key, W47.short, W47.name) == ("W#2026-W47", "week 47", "week 47 (16\u2009–\u200922 Nov 2026)")
    assert W47.previous.key == "W#2026-W46"
    day = digest.Period("daily", date(2026, 11, 22), date(2026, 11, 22))
    assert (day.key, day.short, day.previous.key) == ("D#2026-11-22", "Sun 22 Nov", "D#2026-11-21")
    month = digest.Period("monthly", date(2026, 3, 1), date(2026, 3, 31))
    assert (month.key, month.short, month.previous.first, month.previous.last) == (
        "M#2026-03",
        "March 2026",
        date(2026, 2, 1),
        date(2026, 2, 28),
    )
    assert len(month.days) == 31 and month.days[0] == "D#2026-03-01"
    # a week is Monday 00:00 to the next Monday 00:00 in the campaign's time zone
    start, end = W47.epochs("Europe/Paris")
    assert datetime.fromtimestamp(start, UTC) == datetime(2026, 11, 15, 23, 0, tzinfo=UTC)
    assert end - start == 7 * 86400


# --- What it says -------------------------------------------------------------------------------


def test_the_headline_is_nps_with_its_interval_and_the_change_says_whether_it_is_real(env):
    # this week 40 promoters, 12 passives, 12 detractors (n = 64):
    #   NPS = 100 * (40 - 12)/64 = 43.75 -> "+44"
    #   adjusted Wald: n' = 67, p' = 40.75/67 = 0.608209, d' = 12.75/67 = 0.190299, NPS' = 0.417910
    #   Var' = 0.608209 + 0.190299 - 0.417910^2 = 0.798508 - 0.174649 = 0.623859
    #   margin = 1.96 * sqrt(0.623859/67) = 1.96 * 0.096495 = 0.189130 -> "± 19"
    #   interval 41.79 - 18.91 = 22.88 -> "+23" to 41.79 + 18.91 = 60.70 -> "+61"
    #   +44 is 21 points above +23 and 17 below +61: not symmetric, so no "± 19", which would name +25 to +63
    # last week 12 promoters, 10 passives, 14 detractors (n = 36): NPS = 100 * (12 - 14)/36 = -5.56 -> -6
    #   n' = 39, p' = 12.75/39 = 0.326923, d' = 14.75/39 = 0.378205, NPS' = -0.051282
    #   Var' = 0.705128 - 0.051282^2 = 0.702498, Var'/n' = 0.018013
    # the difference, 43.75 - (-5.56) = 49.31, rounds to 49 points
    #   z = (0.417910 + 0.051282)/sqrt(0.623859/67 + 0.018013) = 0.469192/0.165300 = 2.8384
    #   p = erfc(2.8384/sqrt 2) = 0.0045 -> "p = 0.005", a real change
    built = digest.build(campaign(), W47, inputs({"_": answers(40, 12, 12, sent=70)}, {"_": answers(12, 10, 14, 40)}))
    assert built.headline == "NPS +44"
    assert built.interval == "95% interval +23 to +61, 64 answers"
    assert built.change == "up 49 points since week 46, a real change (p = 0.005)"
    change = nps.compare(nps.summary(40, 12, 12), nps.summary(12, 10, 14))
    assert (change.z, change.p_value) == (pytest.approx(2.8384, abs=1e-3), pytest.approx(0.0045, abs=1e-4))
    text = text_of(built)
    assert "NPS +44 (95% interval +23 to +61, 64 answers)" in text
    assert "Change: up 49 points since week 46, a real change (p = 0.005)" in text
    assert "Invitations sent: 70 (up 30 on week 46 (40))" in text
    assert "Responses: 64 (up 28 on week 46 (36))" in text
    # 64/70 = 91% against 36/40 = 90%: z = 0.2, far from significant
    assert "Response rate: 91% (up 1 point on week 46 (90%), within the noise)" in text
    assert built.subject == "Q4 NPS, week 47: NPS +44, 64 answers"
    assert not built.warnings


@pytest.mark.parametrize(
    ("counts", "headline", "interval"),
    [
        ((0, 0, 0), "no answers, so no NPS", ""),
        # one detractor: the adjusted-Wald interval, -98.5 to +48.5, is stretched down to the observed -100
        ((0, 0, 1), "NPS -100", "95% interval -100 to +49, 1 answer"),
        ((1, 0, 0), "NPS +100", "95% interval -49 to +100, 1 answer"),
        ((0, 1, 0), "NPS 0 ± 60", "95% interval -60 to +60, 1 answer"),  # centred on 0: symmetric
        ((3, 1, 1), "NPS +40", "95% interval -30 to +80, 5 answers"),
        # 5 detractors: n' = 8, NPS' = (0.75 - 5.75)/8 = -62.5, Var' = 0.8125 - 0.390625 = 0.421875,
        # margin 1.96 * sqrt(0.421875/8) = 45.01: -107.5 clipped to -100, to -17.49
        ((0, 0, 5), "NPS -100", "95% interval -100 to -17, 5 answers"),
        ((500, 200, 300), "NPS +20 ± 5", "95% interval +15 to +25, 1,000 answers"),
        ((1000, 0, 0), "NPS +100", "95% interval +99 to +100, 1,000 answers"),
    ],
)
def test_the_headline_never_states_a_number_outside_its_interval(env, counts, headline, interval):
    built = digest.build(campaign(), W47, inputs({"_": answers(*counts)}, {}))
    assert (built.headline, built.interval) == (headline, interval)
    if sum(counts):
        low, high = (int(x) for x in re.search(r"interval ([+-]?\d+) to ([+-]?\d+)", interval).groups())
        score, _, margin = headline.removeprefix("NPS ").partition(" ± ")
        stated = [int(score)] + ([int(score) - int(margin), int(score) + int(margin)] if margin else [])
        assert all(low <= number <= high for number in stated)
        assert not margin or int(score) - low == high - int(score)  # a margin only when symmetric
        assert f"{headline} ({interval})" in text_of(built)


@pytest.mark.parametrize("n", [1, 5, 1000])
def test_every_sample_of_n_answers_has_its_score_inside_its_interval(n):
    step = max(1, n // 20)
    for promoters in range(0, n + 1, step):
        for detractors in range(0, n - promoters + 1, step):
            counts = {"promoters": promoters, "passives": n - promoters - detractors, "detractors": detractors}
            stats = nps.from_counts(counts)
            assert stats.interval.low <= stats.summary.nps <= stats.interval.high
            shown = digest.estimate(stats.summary.nps, stats.interval.low, stats.interval.high)
            score, _, margin = shown.partition(" ± ")
            if margin:
                assert (digest.signed(stats.interval.low), digest.signed(stats.interval.high)) == (
                    digest.signed(int(score) - int(margin)),
                    digest.signed(int(score) + int(margin)),
                )


def test_the_first_period_after_the_first_send_compares_with_nothing(env):
    first_send = datetime(2026, 11, 18, 10, 0, tzinfo=PARIS).timestamp()  # Wednesday of week 47
    new = replace(campaign(), sent_at=first_send)
    built = digest.build(new, W47, inputs({"_": answers(8, 1, 1, sent=20)}, {}))
    assert built.change == "nothing to compare: the campaign's first week"
    assert {f.change for f in built.figures} == {"nothing to compare: the campaign's first week"}
    assert "Invitations sent: 20 (nothing to compare: the campaign's first week)" in text_of(built)
    later = digest.build(new, digest.Period("weekly", date(2026, 11, 23), date(2026, 11, 29)), inputs({}, {}))
    assert later.figures[0].change == "same as week 47"  # the week after compares as usual


def test_a_small_change_is_called_noise(env):
    # 10-5-5 (NPS 25) against 9-5-6 (NPS 15): 10 points up on 20 answers each is well within the noise
    built = digest.build(campaign(), W47, inputs({"_": answers(10, 5, 5, 25)}, {"_": answers(9, 5, 6, 25)}))
    assert built.change.startswith("up 10 points since week 46, within the noise: not a significant change (p = 0.")


def test_a_significant_fall_of_the_response_rate_is_a_loud_warning(env):
    # 30 of 100 answered this week, 45 of 100 last week. Two-proportion z test (pooled):
    #   p = (30 + 45)/200 = 0.375, SE = sqrt(0.375 * 0.625 * (1/100 + 1/100)) = sqrt(0.0046875) = 0.068465
    #   z = (0.30 - 0.45)/0.068465 = -2.19089, p = erfc(2.19089/sqrt 2) = 0.0285 -> "p = 0.03", significant
    change = nps.compare_proportions(nps.proportion(30, 100), nps.proportion(45, 100))
    assert change.z == pytest.approx(-2.19089, abs=1e-5)
    assert change.p_value == pytest.approx(0.0285, abs=1e-4)
    built = digest.build(
        campaign(), W47, inputs({"_": answers(15, 10, 5, sent=100)}, {"_": answers(25, 10, 10, sent=100)})
    )
    assert built.warnings == [
        "The response rate fell from 45% in week 46 to 30% in week 47: a real drop (p = 0.03), not chance. "
        "Customers who stop answering may have stopped caring, or left."
    ]
    assert built.subject.startswith("Warning: Q4 NPS, week 47")
    assert "Response rate: 30% (down 15 points on week 46 (45%), a real drop (p = 0.03))" in text_of(built)
    assert "WARNING: The response rate fell" in text_of(built)
    assert "<strong>Warning:</strong> The response rate fell" in html_of(built)


def test_a_fall_within_the_noise_is_reported_but_not_a_warning(env):
    # 40 of 100 against 45 of 100: p = 0.425, SE = sqrt(0.425 * 0.575 * 0.02) = 0.069911, z = -0.715, p = 0.47
    built = digest.build(
        campaign(), W47, inputs({"_": answers(20, 10, 10, sent=100)}, {"_": answers(25, 10, 10, sent=100)})
    )
    assert built.warnings == []
    assert built.figures[2].change == "down 5 points on week 46 (45%), within the noise"


def test_answers_posted_for_people_never_mailed_are_responses_but_not_in_the_rate(env):
    # 30 of 100 mailed people answered, and 60 answers were posted through the v1 API for people not mailed:
    # 90 responses, but 30% answered their invitation (45% the week before: the same real drop as above)
    current = answers(40, 30, 20, sent=100, responses_unmailed=60)
    built = digest.build(campaign(), W47, inputs({"_": current}, {"_": answers(25, 10, 10, sent=100)}))
    assert "Responses: 90 (up 45 on week 46 (45))" in text_of(built)
    assert "Response rate: 30% (down 15 points on week 46 (45%), a real drop (p = 0.03))" in text_of(built)
    assert built.warnings[0].startswith("The response rate fell from 45% in week 46 to 30% in week 47")


def test_no_answers_while_invitations_went_out_is_a_warning_not_a_paused_digest(env):
    built = digest.build(campaign(), W47, inputs({"_": {"sent": 120}}, {"_": answers(10, 5, 5, sent=100)}))
    assert built.headline == "no answers, so no NPS"
    assert built.warnings[0].startswith("No answers in week 47, although 120 invitations went out.")
    assert built.change == "no answers in one of the periods: nothing to compare"


def test_feedback_that_stopped_altogether_is_said_loudly(env):
    built = digest.build(campaign(), W47, inputs({}, {"_": answers(10, 5, 5, sent=30)}))
    assert built.warnings == [
        "No answers in week 47 (20 in week 46), and no invitations went out. Feedback has stopped: "
        "customers who stop answering may have left already."
    ]
    assert "WARNING: No answers in week 47" in text_of(built)


def test_segments_flag_the_weakest_and_mark_small_ones_too_small_to_judge(env):
    # plan=pro 30-5-5 (n 40, NPS 62.5 -> +63), plan=free 8-10-14 (n 32, NPS -18.75 -> -19), plan=team 5-0-0 (n 5)
    # free is the weakest judgeable plan; the others together: 35 promoters, 5 passives, 5 detractors -> +67
    pro, free, team = answers(30, 5, 5), answers(8, 10, 14), answers(5, 0, 0)
    everyone = answers(43, 15, 19)
    current = {"_": everyone, "plan=pro": pro, "plan=free": free, "plan=team": team}
    built = digest.build(campaign(), W47, inputs(current, {"_": everyone}))
    (group,) = built.segments
    assert [(r.value, r.n, r.weakest, r.small) for r in group.rows] == [
        ("pro", 40, False, False),
        ("free", 32, True, False),
        ("team", 5, False, True),
    ]
    rest = nps.compare(nps.summary(8, 10, 14), nps.summary(35, 5, 5))
    assert rest.significant and rest.previous.nps == pytest.approx(66.67, abs=0.01)
    assert group.verdict == (
        f"Weakest plan: free, NPS -19 against +67 for everyone else, a real gap ({nps.format_p(rest.p_value)})."
    )
    text = text_of(built)
    # free: NPS' = (8.75 - 14.75)/35 = -17.14, margin 1.96 * sqrt(0.642041/35) = 26.55 -> -43.69 to +9.40
    assert "free: NPS -19 (-44 to +9), 32 answers  <- weakest" in text
    assert "team: too small to judge (5 answers; fewer than 30)" in text
    html = html_of(built)
    assert "free (weakest)" in html and "Segments with fewer than 30 answers are too small to judge." in html


def test_a_segment_that_is_the_only_one_large_enough_is_not_called_weakest(env):
    current = {"_": answers(35, 5, 10), "plan=pro": answers(30, 5, 5), "plan=free": answers(5, 0, 5)}
    (group,) = digest.build(campaign(), W47, inputs(current, {})).segments
    assert not any(r.weakest for r in group.rows)
    assert group.verdict == "Only pro has 30 answers or more: nothing to compare it with."


def test_the_trend_is_a_table_of_bars_that_gmail_and_outlook_render(env):
    trend = [answers(2, 2, 6), {}, answers(5, 0, 0)] + [answers(3, 3, 3)] * 7
    built = digest.build(campaign(), W47, inputs({"_": answers(8, 1, 1)}, {"_": answers(1, 1, 8)}, trend))
    rows = built.trend
    assert len(rows) == 12 and rows[0].label == "W36 (31 Aug)" and rows[-1].label == "W47 (16 Nov)"
    # 2-2-6 is NPS -40, a red bar 40% wide on the left; n' = 13, p' = 2.75/13 = 0.211538,
    # d' = 6.75/13 = 0.519231, NPS' = -0.307692, Var' = 0.730769 - 0.094675 = 0.636094,
    # margin = 1.96 * sqrt(0.636094/13) = 1.96 * 0.221201 = 0.43355: -30.77 - 43.36 = -74.12 to +12.59
    # no answers, no bar; 8-1-1 is +70, a green bar 70% wide on the right
    assert (rows[0].negative, rows[0].positive, rows[0].text) == (40, 0, "-40 (-74 to +13), 10 answers")
    assert (rows[1].negative, rows[1].positive, rows[1].text) == (0, 0, "no answers")
    assert (rows[-1].negative, rows[-1].positive) == (0, 70)
    html = html_of(built)
    for forbidden in ("<svg", "<script", "<img", "<canvas", "<style", "display:flex", "grid"):
        assert forbidden not in html
    assert '<table role="presentation" align="left" width="70%"' in html and 'bgcolor="#0e9f6e"' in html
    assert '<table role="presentation" align="right" width="40%"' in html and 'bgcolor="#c81e1e"' in html
    text = text_of(built)
    assert "  W36 (31 Aug): -40 (-74 to +13), 10 answers" in text and "  W37 (7 Sept): no answers" in text


def test_themes_comments_and_open_cases_with_links_and_escaped_text(env):
    current = {"_": answers(5, 2, 6, comments=6, **{"theme.pricing": 4, "theme.support": 1})}
    saturday = datetime(2026, 11, 21, 10, 0, tzinfo=PARIS).timestamp()
    comment = digest.Answer("inv1", "bob@example.com", 2, 'Too expensive <script>alert("x")</script>', saturday)
    thursday = datetime(2026, 11, 19, 19, 5, tzinfo=PARIS).timestamp()  # 85 hours before Monday 08:05
    waiting = digest.Answer("inv2", "eve@example.com", 0, "Never again", thursday)
    built = digest.build(
        campaign(),
        W47,
        inputs(current, {"_": answers(1, 1, 1, **{"theme.pricing": 1})}, comments=[comment], cases=[waiting]),
    )
    assert [(t.name, t.count, t.previous) for t in built.themes] == [("pricing", 4, 1), ("support", 1, 0)]
    text, html = text_of(built), html_of(built)
    assert "  pricing: 4 (67% of comments), 1 in week 46" in text
    assert '2/10 from bob@example.com, Sat 21 Nov 10:00: "Too expensive <script>alert("x")</script>"' in text
    assert "http://127.0.0.1:8000/dashboard/responses/inv1" in text
    assert "Detractors still waiting for a personal contact: 1" in text
    assert 'eve@example.com (0/10), waiting 85 hours: "Never again"' in text
    assert "<script>" not in html and "Too expensive &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert 'href="http://127.0.0.1:8000/dashboard/responses/inv2"' in html and 'href="mailto:eve%40example.com"' in html


def test_every_digest_carries_the_one_click_headers_and_a_preferences_link(env):
    message = digest.render_message(
        digest.build(campaign(), W47, inputs({"_": answers(1, 0, 0)}, {})), "cx@acme.example", get_settings()
    )
    link = message["List-Unsubscribe"].strip("<>")
    assert link.startswith("http://127.0.0.1:8000/digest/c1.")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in message.get_body(("plain",)).get_content()
    assert f'href="{link}"' in message.get_body(("html",)).get_content()


def test_a_survey_without_nps_still_gets_its_numbers(env):
    survey = {"questions": [{"id": "csat", "type": "csat", "text": "How satisfied are you?"}]}
    built = digest.build(campaign(survey=survey), W47, inputs({"_": {"responses": 12, "sent": 40}}, {}))
    assert built.nps is None and built.subject == "Q4 NPS, week 47: 12 responses"
    assert "Responses: 12 (up 12 on week 46 (0))" in text_of(built)


# --- In the CX team's language ------------------------------------------------------------------


def test_a_german_team_reads_its_digest_in_german_with_german_numbers_and_dates(env):
    # 500-200-300 this week (NPS +20, interval +15 to +25: symmetric), 12-10-14 the week before
    saturday = datetime(2026, 11, 21, 10, 0, tzinfo=PARIS).timestamp()
    comment = digest.Answer("inv1", "bob@example.com", 2, "Zu teuer", saturday)
    current, previous = {"_": answers(500, 200, 300, sent=1200)}, {"_": answers(12, 10, 14, sent=40)}
    german = campaign(options={"team_locale": "de"})
    built = digest.build(german, W47, inputs(current, previous, comments=[comment]))
    assert (built.headline, built.interval) == (
        "NPS +20 ± 5",
        "Konfidenzintervall 95\xa0%: +15 bis +25, 1.000 Antworten",
    )
    assert built.subject == "Q4 NPS, KW 47: NPS +20 ± 5, 1.000 Antworten"
    assert built.change == "26 Punkte mehr als in KW 46, im Rauschen: keine signifikante Veränderung (p = 0,07)"
    text, html = text_of(built), html_of(built)
    assert text.startswith("Q4 NPS: Wöchentliche Übersicht, KW 47 (16.–22. Nov. 2026)\n")
    assert "Versendete Einladungen: 1.200 (1.160 mehr als in KW 46 (40))" in text
    assert "Antwortquote: 83\xa0% (7 Punkte weniger als in KW 46 (90\xa0%), im Rauschen)" in text
    assert '  2/10 von bob@example.com, Sa., 21. Nov. 10:00: "Zu teuer"' in text
    assert "Sie erhalten diese Übersicht wöchentlich. Häufigkeit ändern oder abbestellen: http" in text
    assert '<html lang="de" dir="ltr">' in html and ">Antwort öffnen</a>" in html
    for english in ("answers", "Invitations sent", "Warning", "week 4", "digest"):
        assert english not in text.replace("/digest/", ""), english
    # the same digest for an English reader, from the same numbers
    english = digest.render_message(built, "cx@acme.example", get_settings(), locale="en")
    assert english["Subject"] == "Q4 NPS, week 47: NPS +20 ± 5, 1,000 answers"


def test_an_arabic_digest_is_laid_out_right_to_left_with_its_bars_mirrored(env):
    trend = [answers(2, 2, 6)] + [answers(3, 3, 3)] * 9
    current, previous = {"_": answers(15, 10, 5, sent=100)}, {"_": answers(25, 10, 10, sent=100)}
    built = digest.build(campaign(options={"team_locale": "ar"}), W47, inputs(current, previous, trend))
    html, text = html_of(built), text_of(built)
    assert '<html lang="ar" dir="rtl">' in html and '<body dir="rtl"' in html
    assert '<table role="presentation" dir="rtl"' in html
    assert "الملخص الأسبوعي" in html and "تحذير:" in html and "نسبة الاستجابة" in html
    # the negative half is on the right of the middle line in Arabic: its bar grows leftwards from the right edge
    assert '<table role="presentation" align="left" width="40%"' in html and 'bgcolor="#c81e1e"' in html
    assert "border-left:1px solid #9aa5b1" in html and "border-right:6px solid #c81e1e" in html
    # a p-value keeps reading left to right ("p = 0.03", not mirrored) inside the Arabic sentence
    assert "\u2066p = 0.03\u2069" in text


@pytest.mark.parametrize(
    ("counts", "headline", "interval"),
    [
        ((0, 0, 0), "aucune réponse, donc pas de NPS", ""),
        ((0, 0, 1), "NPS -100", "intervalle de confiance à 95\xa0% : de -100 à +49, 1 réponse"),
        ((500, 200, 300), "NPS +20 ± 5", "intervalle de confiance à 95\xa0% : de +15 à +25, 1\u202f000 réponses"),
        ((1000, 0, 0), "NPS +100", "intervalle de confiance à 95\xa0% : de +99 à +100, 1\u202f000 réponses"),
    ],
)
def test_the_french_headline_never_states_a_number_outside_its_interval(env, counts, headline, interval):
    built = digest.build(campaign(options={"team_locale": "fr"}), W47, inputs({"_": answers(*counts)}, {}))
    assert (built.headline, built.interval) == (headline, interval)
    if sum(counts):
        low, high = (int(x) for x in re.search(r"de ([+-]?\d+) à ([+-]?\d+)", interval).groups())
        score, _, margin = headline.removeprefix("NPS ").partition(" ± ")
        stated = [int(score)] + ([int(score) - int(margin), int(score) + int(margin)] if margin else [])
        assert all(low <= number <= high for number in stated)
        assert not margin or int(score) - low == high - int(score)
        assert f"{headline} ({interval})" in text_of(built)
    else:
        assert "Aucune réponse, donc pas de NPS" in html_of(built)
