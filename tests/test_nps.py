"""Statistics worked by hand: every expected value below is derived in the comment above it.

z = 1.96 throughout (z^2 = 3.8416). Intermediate values are rounded to 5-6 digits in the
comments; the tolerances allow for that rounding and nothing more.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.core import nps

# --- NPS summary ----------------------------------------------------------------------------


def test_the_category_stays_as_it_was():
    assert [nps.category(s) for s in (0, 6, 7, 8, 9, 10)] == ["detractor"] * 2 + ["passive"] * 2 + ["promoter"] * 2
    assert nps.CATEGORIES == (nps.PROMOTER, nps.PASSIVE, nps.DETRACTOR)


def test_no_answers_is_no_score_not_zero():
    assert nps.summary(0, 0, 0) == nps.NpsSummary(0, 0, 0, 0, None, None, None, None)


def test_a_mixed_sample():
    # 17 promoters, 6 passives, 8 detractors: n = 31
    # shares 17/31 = 0.548387, 6/31 = 0.193548, 8/31 = 0.258065
    # NPS = 100 * (17 - 8)/31 = 900/31 = 29.0323 points
    s = nps.summary(17, 6, 8)
    assert (s.n, s.promoters, s.passives, s.detractors) == (31, 17, 6, 8)
    assert s.promoter_share == pytest.approx(0.548387, abs=1e-6)
    assert s.passive_share == pytest.approx(0.193548, abs=1e-6)
    assert s.detractor_share == pytest.approx(0.258065, abs=1e-6)
    assert s.nps == pytest.approx(29.0323, abs=1e-4)


def test_one_answer_gives_an_extreme_score():
    # one promoter: 100 * (1 - 0)/1 = 100; one detractor: 100 * (0 - 1)/1 = -100
    assert nps.summary(1, 0, 0).nps == 100
    assert nps.summary(0, 0, 1).nps == -100
    assert nps.summary(0, 1, 0).nps == 0


def test_negative_counts_are_refused():
    with pytest.raises(ValueError, match="detractors cannot be negative"):
        nps.summary(1, 0, -1)


# --- Adjusted-Wald interval (Rocks 2016) ----------------------------------------------------


def test_no_answers_gives_centre_zero_and_a_wide_interval():
    # n' = 0 + 3 = 3, p' = 0.75/3 = 0.25, d' = 0.25, NPS' = 0
    # Var' = 0.25 + 0.25 - 0^2 = 0.5
    # margin = 1.96 * sqrt(0.5/3) = 1.96 * 0.408248 = 0.800167 -> 80.0167 points
    i = nps.adjusted_wald(0, 0, 0)
    assert i.n == 0
    assert i.centre == pytest.approx(0.0, abs=1e-9)
    assert i.margin == pytest.approx(80.0167, abs=1e-4)
    assert (i.low, i.high) == (pytest.approx(-80.0167, abs=1e-4), pytest.approx(80.0167, abs=1e-4))
    # plain Wald has no standard error at all without answers
    assert nps.wald_se(0, 0, 0) is None
    assert nps.wald_margin(0, 0, 0) is None


def test_one_promoter():
    # n' = 1 + 3 = 4, p' = (1 + 0.75)/4 = 0.4375, d' = 0.75/4 = 0.1875
    # NPS' = 0.4375 - 0.1875 = 0.25 -> 25 points
    # Var' = 0.4375 + 0.1875 - 0.25^2 = 0.625 - 0.0625 = 0.5625
    # margin = 1.96 * sqrt(0.5625/4) = 1.96 * 0.375 = 0.735 -> 73.5 points
    # interval [25 - 73.5, 25 + 73.5] = [-48.5, 98.5], no clipping needed; but the observed NPS is +100,
    # above 98.5: the interval is stretched to take it in, [-48.5, 100], so no report shows "+100 (-49 to +99)"
    i = nps.adjusted_wald(1, 0, 0)
    assert i.centre == pytest.approx(25.0, abs=1e-9)
    assert i.margin == pytest.approx(73.5, abs=1e-9)
    assert (i.low, i.high) == (pytest.approx(-48.5, abs=1e-9), 100)
    # plain Wald: p = 1, d = 0, p + d - (p - d)^2 = 1 + 0 - 1 = 0 -> SE 0, "100 +/- 0"
    assert nps.wald_se(1, 0, 0) == 0
    assert nps.wald_margin(1, 0, 0) == 0


def test_one_detractor_mirrors_one_promoter():
    # p' = 0.1875, d' = 0.4375, NPS' = -0.25 -> -25 points; Var' = 0.5625 as above, margin 73.5
    # interval [-25 - 73.5, -25 + 73.5] = [-98.5, 48.5], stretched down to the observed -100
    i = nps.adjusted_wald(0, 0, 1)
    assert i.centre == pytest.approx(-25.0, abs=1e-9)
    assert i.margin == pytest.approx(73.5, abs=1e-9)
    assert (i.low, i.high) == (-100, pytest.approx(48.5, abs=1e-9))
    assert nps.wald_se(0, 0, 1) == 0


def test_all_promoters_keep_a_real_margin():
    # 10 promoters of 10: plain NPS 100, plain Wald p = 1, d = 0 -> SE = sqrt((1 + 0 - 1)/10) = 0
    # adjusted: n' = 13, p' = 10.75/13 = 0.826923, d' = 0.75/13 = 0.057692
    # NPS' = 0.769231 -> 76.9231 points
    # Var' = 0.826923 + 0.057692 - 0.769231^2 = 0.884615 - 0.591716 = 0.292899
    # margin = 1.96 * sqrt(0.292899/13) = 1.96 * sqrt(0.0225307) = 1.96 * 0.150102 = 0.294201 -> 29.4201
    # low = 76.9231 - 29.4201 = 47.5030; high = 76.9231 + 29.4201 = 106.3431 -> clipped to 100
    i = nps.adjusted_wald(10, 0, 0)
    assert nps.summary(10, 0, 0).nps == 100
    assert nps.wald_se(10, 0, 0) == 0
    assert i.centre == pytest.approx(76.9231, abs=1e-4)
    assert i.margin == pytest.approx(29.4201, abs=1e-4)
    assert i.low == pytest.approx(47.5030, abs=1e-4)
    assert i.high == 100


def test_all_detractors_clip_at_minus_100():
    # mirror of the all-promoter case: NPS' = -76.9231, margin 29.4201
    # low = -106.3431 -> clipped to -100; high = -76.9231 + 29.4201 = -47.5030
    i = nps.adjusted_wald(0, 0, 10)
    assert nps.summary(0, 0, 10).nps == -100
    assert i.centre == pytest.approx(-76.9231, abs=1e-4)
    assert i.margin == pytest.approx(29.4201, abs=1e-4)
    assert i.low == -100
    assert i.high == pytest.approx(-47.5030, abs=1e-4)


def test_a_mixed_sample_interval_and_plain_wald():
    # 17 / 6 / 8, n = 31
    # adjusted: n' = 34, p' = 17.75/34 = 0.522059, d' = 8.75/34 = 0.257353
    # NPS' = 0.264706 -> 26.4706 points
    # Var' = 0.522059 + 0.257353 - 0.264706^2 = 0.779412 - 0.070069 = 0.709343
    # margin = 1.96 * sqrt(0.709343/34) = 1.96 * sqrt(0.0208630) = 1.96 * 0.144440 = 0.283103 -> 28.3103
    # interval [26.4706 - 28.3103, 26.4706 + 28.3103] = [-1.8397, 54.7809]
    i = nps.adjusted_wald(17, 6, 8)
    assert i.n == 31
    assert i.centre == pytest.approx(26.4706, abs=1e-4)
    assert i.margin == pytest.approx(28.3103, abs=1e-4)
    assert (i.low, i.high) == (pytest.approx(-1.8397, abs=1e-4), pytest.approx(54.7809, abs=1e-4))
    # plain: p = 17/31 = 0.548387, d = 8/31 = 0.258065, p - d = 0.290323
    # var = 0.548387 + 0.258065 - 0.290323^2 = 0.806452 - 0.084287 = 0.722164
    # SE = sqrt(0.722164/31) = sqrt(0.0232956) = 0.152629; margin = 1.96 * 0.152629 * 100 = 29.9153
    assert nps.wald_se(17, 6, 8) == pytest.approx(0.152629, abs=1e-6)
    assert nps.wald_margin(17, 6, 8) == pytest.approx(29.9153, abs=1e-4)


@given(st.integers(0, 500), st.integers(0, 500), st.integers(0, 500))
def test_the_adjusted_interval_is_inside_the_scale_and_around_its_centre(promoters, passives, detractors):
    i = nps.adjusted_wald(promoters, passives, detractors)
    assert -100 <= i.low < i.centre < i.high <= 100
    assert i.margin > 0


# --- From a counter item ----------------------------------------------------------------------

# The example counter item of docs/data-model.md, plus a CSAT question.
COUNTS = {
    "sent": 120,
    "responses": 31,
    "promoters": 17,
    "passives": 6,
    "detractors": 8,
    "comments": 12,
    "filtered": 2,
    "trap_hits": 3,
    "q.nps.n": 31,
    "q.nps.sum": 236,
    "q.nps.sq": 2104,
    "q.nps.v9": 7,
    "q.csat.n": 10,
    "q.csat.sum": 35,
    "q.csat.sq": 137,
    "q.csat.v1": 1,
    "q.csat.v2": 1,
    "q.csat.v3": 2,
    "q.csat.v4": 4,
    "q.csat.v5": 2,
    "q.plan.n": 5,
    "q.plan.o0": 3,
    "q.plan.o1": 2,
}


def test_from_counts_is_the_summary_and_interval_of_the_category_counters():
    stats = nps.from_counts(COUNTS)
    assert stats.summary == nps.summary(17, 6, 8)
    assert stats.interval == nps.adjusted_wald(17, 6, 8)
    # the numbers of test_a_mixed_sample_interval_and_plain_wald
    assert stats.summary.nps == pytest.approx(29.0323, abs=1e-4)
    assert stats.interval.centre == pytest.approx(26.4706, abs=1e-4)
    assert stats.wald_se == pytest.approx(0.152629, abs=1e-6)
    assert stats.wald_margin == pytest.approx(29.9153, abs=1e-4)


def test_from_counts_of_an_empty_item():
    stats = nps.from_counts({})
    assert stats.summary.nps is None
    assert stats.interval.centre == pytest.approx(0.0, abs=1e-9)
    assert stats.interval.margin == pytest.approx(80.0167, abs=1e-4)
    assert stats.wald_se is None and stats.wald_margin is None


def test_question_stats_of_a_csat_question():
    # answers 1, 2, 3, 3, 4, 4, 4, 4, 5, 5: n = 10, sum = 35, sumsq = 1 + 4 + 18 + 64 + 50 = 137
    # mean = 3.5; s^2 = (137 - 35^2/10)/9 = (137 - 122.5)/9 = 1.611111; s = 1.269296
    # t(0.975, 9) = 2.262157; margin = 2.262157 * 1.269296/sqrt(10) = 2.262157 * 0.401386 = 0.907999
    # interval [3.5 - 0.908, 3.5 + 0.908] = [2.592001, 4.407999]
    # CSAT: v4 + v5 = 4 + 2 = 6 of 10; Wilson worked in test_csat_from_a_histogram: [0.312670, 0.831822]
    q = nps.question_stats(COUNTS, "csat")
    assert q.question_id == "csat" and q.n == 10
    assert q.histogram == {1: 1, 2: 1, 3: 2, 4: 4, 5: 2}
    assert q.mean.mean == pytest.approx(3.5, abs=1e-9)
    assert q.mean.sd == pytest.approx(1.269296, abs=1e-6)
    assert q.mean.margin == pytest.approx(0.907999, abs=1e-4)
    assert (q.mean.low, q.mean.high) == (pytest.approx(2.592001, abs=1e-4), pytest.approx(4.407999, abs=1e-4))
    assert q.csat is not None
    assert (q.csat.successes, q.csat.n, q.csat.share) == (6, 10, 0.6)
    assert (q.csat.low, q.csat.high) == (pytest.approx(0.312670, abs=1e-6), pytest.approx(0.831822, abs=1e-6))


def test_question_stats_of_the_nps_question():
    # n = 31, sum = 236, sumsq = 2104: mean = 236/31 = 7.612903
    # s^2 = (2104 - 236^2/31)/30 = (2104 - 1796.645161)/30 = 10.245161; s = 3.200806
    # t(0.975, 30) = 2.042272; margin = 2.042272 * 3.200806/sqrt(31) = 2.042272 * 0.574882 = 1.174065
    q = nps.question_stats(COUNTS, "nps", question_type="nps")
    assert q.mean.mean == pytest.approx(7.612903, abs=1e-6)
    assert q.mean.sd == pytest.approx(3.200806, abs=1e-6)
    assert q.mean.margin == pytest.approx(1.174065, abs=1e-4)
    assert q.histogram == {9: 7}
    assert q.csat is None  # a 4 on a 0-10 scale is not "satisfied"


def test_question_stats_of_an_unanswered_question():
    q = nps.question_stats(COUNTS, "missing")
    assert q.n == 0 and q.histogram == {}
    assert q.mean == nps.MeanInterval(0, None, None, None, None, None)
    assert q.csat is not None and q.csat.share is None and q.csat.low is None


def test_question_stats_of_a_question_answered_only_with_zero():
    # counters leave out zeros, so all-zero NPS answers store q.nps.n and q.nps.v0 but no sum or sq:
    # mean = 0/3 = 0, s^2 = (0 - 0)/2 = 0, margin 0
    q = nps.question_stats({"q.nps.n": 3, "q.nps.v0": 3}, "nps", question_type="nps")
    assert (q.mean.mean, q.mean.sd, q.mean.margin) == (0, 0, 0)


def test_question_stats_refuses_a_choice_question():
    with pytest.raises(ValueError, match="not a scale question"):
        nps.question_stats(COUNTS, "plan")


def test_rates_from_counts():
    # response rate 31/120 = 0.258333; Wilson: z^2/n = 3.8416/120 = 0.032013, denominator 1.032013
    # centre = (0.258333 + 0.016007)/1.032013 = 0.265830
    # half = 1.96/1.032013 * sqrt(0.258333 * 0.741667/120 + 3.8416/57600) = 1.899201 * 0.040784 = 0.077457
    # -> [0.188373, 0.343287]
    # comment rate 12/31 = 0.387097; z^2/n = 0.123923, denominator 1.123923
    # centre = (0.387097 + 0.061961)/1.123923 = 0.399545
    # half = 1.96/1.123923 * sqrt(0.387097 * 0.612903/31 + 3.8416/3844) = 1.743889 * 0.093020 = 0.162217
    # -> [0.237329, 0.561762]
    r = nps.rates(COUNTS)
    assert r.response_rate.share == pytest.approx(0.258333, abs=1e-6)
    assert r.response_rate.low == pytest.approx(0.188373, abs=1e-6)
    assert r.response_rate.high == pytest.approx(0.343287, abs=1e-6)
    assert r.comment_rate.share == pytest.approx(0.387097, abs=1e-6)
    assert r.comment_rate.low == pytest.approx(0.237329, abs=1e-6)
    assert r.comment_rate.high == pytest.approx(0.561762, abs=1e-6)


# --- Comparing two periods ------------------------------------------------------------------


def test_a_significant_change():
    # this week 60/20/20 of 100 (NPS 40), last week 30/20/50 of 100 (NPS -20): plain difference 60 points
    # this week: n' = 103, p' = 60.75/103 = 0.589806, d' = 20.75/103 = 0.201456, NPS' = 0.388350
    #   Var' = 0.791262 - 0.388350^2 = 0.791262 - 0.150816 = 0.640447; Var'/n' = 0.00621793
    # last week: p' = 30.75/103 = 0.298544, d' = 50.75/103 = 0.492718, NPS' = -0.194175
    #   Var' = 0.791262 - 0.194175^2 = 0.791262 - 0.037704 = 0.753558; Var'/n' = 0.00731610
    # z = (0.388350 + 0.194175)/sqrt(0.00621793 + 0.00731610) = 0.582524/0.116336 = 5.00726
    # p = erfc(5.00726/sqrt 2) = 5.52e-7; |z| > 1.96 -> significant
    change = nps.compare(nps.summary(60, 20, 20), nps.summary(30, 20, 50))
    assert change.difference == pytest.approx(60.0, abs=1e-9)
    assert change.adjusted_difference == pytest.approx(58.2524, abs=1e-4)
    assert change.z == pytest.approx(5.00726, abs=1e-4)
    assert change.p_value == pytest.approx(5.52e-7, rel=1e-2)
    assert change.significant
    assert nps.describe_change(change, "last week") == "up 60 points since last week, a real change (p < 0.001)"


def test_a_change_within_the_noise():
    # this week 30/40/30 of 100 (NPS 0), last week 28/40/32 of 100 (NPS -4): plain difference 4 points
    # this week: n' = 103, p' = d' = 30.75/103 = 0.298544, NPS' = 0
    #   Var' = 0.597087 - 0 = 0.597087; Var'/n' = 0.00579696
    # last week: p' = 28.75/103 = 0.279126, d' = 32.75/103 = 0.317961, NPS' = -0.038835
    #   Var' = 0.597087 - 0.038835^2 = 0.597087 - 0.001508 = 0.595579; Var'/n' = 0.00578232
    # z = 0.038835/sqrt(0.00579696 + 0.00578232) = 0.038835/0.107607 = 0.36090
    # p = erfc(0.36090/sqrt 2) = erfc(0.25520) = 0.718177 -> not significant
    change = nps.compare(nps.summary(30, 40, 30), nps.summary(28, 40, 32))
    assert change.difference == pytest.approx(4.0, abs=1e-9)
    assert change.z == pytest.approx(0.36090, abs=1e-4)
    assert change.p_value == pytest.approx(0.718177, abs=1e-5)
    assert not change.significant
    assert nps.describe_change(change) == "up 4 points, within the noise: not a significant change (p = 0.72)"
    # the other way round: same |z| and p, difference -4
    back = nps.compare(nps.summary(28, 40, 32), nps.summary(30, 40, 30))
    assert back.z == pytest.approx(-0.36090, abs=1e-4)
    assert back.p_value == pytest.approx(change.p_value, abs=1e-12)
    assert nps.describe_change(back, "last week") == (
        "down 4 points since last week, within the noise: not a significant change (p = 0.72)"
    )


def test_twelve_points_on_200_answers_can_still_be_noise():
    # this week 92/60/48 of 200 (NPS 22), last week 80/60/60 of 200 (NPS 10): plain difference 12 points
    # this week: n' = 203, p' = 92.75/203 = 0.456897, d' = 48.75/203 = 0.240148, NPS' = 0.216749
    #   Var' = 0.697044 - 0.216749^2 = 0.697044 - 0.046980 = 0.650064; Var'/n' = 0.00320229
    # last week: p' = 80.75/203 = 0.397783, d' = 60.75/203 = 0.299261, NPS' = 0.098522
    #   Var' = 0.697044 - 0.098522^2 = 0.697044 - 0.009707 = 0.687338; Var'/n' = 0.00338590
    # z = (0.216749 - 0.098522)/sqrt(0.00320229 + 0.00338590) = 0.118227/0.081168 = 1.45657
    # p = erfc(1.45657/sqrt 2) = 0.145234
    change = nps.compare(nps.summary(92, 60, 48), nps.summary(80, 60, 60))
    assert change.z == pytest.approx(1.45657, abs=1e-4)
    assert change.p_value == pytest.approx(0.145234, abs=1e-5)
    assert nps.describe_change(change, "last week") == (
        "up 12 points since last week, within the noise: not a significant change (p = 0.15)"
    )


def test_a_large_change_on_ten_answers_each():
    # this week 9/0/1 (NPS 80), last week 3/3/4 (NPS -10): plain difference 90 points
    # this week: n' = 13, p' = 9.75/13 = 0.75, d' = 1.75/13 = 0.134615, NPS' = 0.615385
    #   Var' = 0.884615 - 0.615385^2 = 0.884615 - 0.378698 = 0.505917; Var'/n' = 0.0389167
    # last week: p' = 3.75/13 = 0.288462, d' = 4.75/13 = 0.365385, NPS' = -0.076923
    #   Var' = 0.653846 - 0.076923^2 = 0.653846 - 0.005917 = 0.647929; Var'/n' = 0.0498407
    # z = 0.692308/sqrt(0.0389167 + 0.0498407) = 0.692308/0.297922 = 2.32379; p = erfc(1.64316) = 0.0201
    change = nps.compare(nps.summary(9, 0, 1), nps.summary(3, 3, 4))
    assert change.z == pytest.approx(2.32379, abs=1e-4)
    assert change.p_value == pytest.approx(0.0201368, abs=1e-6)
    assert change.significant
    assert nps.describe_change(change, "last month") == "up 90 points since last month, a real change (p = 0.02)"


@pytest.mark.parametrize(("current", "previous"), [((0, 0, 0), (5, 3, 2)), ((5, 3, 2), (0, 0, 0)), ((0, 0, 0),) * 2])
def test_no_answers_in_a_period_means_nothing_to_compare(current, previous):
    change = nps.compare(nps.summary(*current), nps.summary(*previous))
    assert (change.difference, change.adjusted_difference, change.z, change.p_value) == (None,) * 4
    assert not change.significant
    assert nps.describe_change(change, "last week") == "no answers in one of the periods: nothing to compare"


def test_the_same_scores_are_unchanged():
    # identical samples: NPS'1 = NPS'2, z = 0, p = erfc(0) = 1
    change = nps.compare(nps.summary(5, 3, 2), nps.summary(5, 3, 2))
    assert change.z == 0 and change.p_value == 1
    assert nps.describe_change(change, "last week") == (
        "unchanged since last week, within the noise: not a significant change (p = 1.00)"
    )


def test_the_words_round_half_points_away_from_zero_and_say_point_for_one():
    def words(difference: float, significant: bool = False, p: float = 0.5) -> str:
        current = nps.summary(1, 0, 0)
        return nps.describe_change(nps.NpsChange(current, current, difference, difference, 0.1, p, significant))

    # 12.5 -> 13 and -12.5 -> -13 (not Python's round-half-to-even 12), 1 -> "1 point"
    assert words(12.5).startswith("up 13 points,")
    assert words(-12.5).startswith("down 13 points,")
    assert words(-1.2).startswith("down 1 point,")
    assert words(0.4).startswith("unchanged,")


@pytest.mark.parametrize(
    ("p", "text"),
    [(0.62, "p = 0.62"), (0.012, "p = 0.01"), (0.0042, "p = 0.004"), (0.00099, "p < 0.001"), (1.0, "p = 1.00")],
)
def test_p_values_are_written_to_two_or_three_decimals(p, text):
    assert nps.format_p(p) == text


def test_a_significant_p_just_under_005_does_not_read_as_005():
    # |z| = 1.961 > 1.96 -> p = erfc(1.961/sqrt 2) = 0.04987, which two decimals would print as 0.05
    z = 1.961
    p = nps.two_sided_p(z)
    assert p == pytest.approx(0.04987, abs=1e-5)
    current = nps.summary(1, 0, 0)
    change = nps.NpsChange(current, current, 10.0, 10.0, z, p, True)
    assert nps.describe_change(change) == "up 10 points, a real change (p < 0.05)"


def test_two_sided_p_matches_the_normal_table():
    # Phi(1.96) = 0.975 -> two-sided 0.05; Phi(2.576) = 0.995 -> 0.01; z = 0 -> 1
    assert nps.two_sided_p(1.96) == pytest.approx(0.05, abs=1e-4)
    assert nps.two_sided_p(-2.576) == pytest.approx(0.01, abs=1e-4)
    assert nps.two_sided_p(0) == 1


@given(st.tuples(*[st.integers(0, 200)] * 3), st.tuples(*[st.integers(0, 200)] * 3))
def test_swapping_the_periods_flips_the_sign_only(a, b):
    forward, backward = nps.compare(nps.summary(*a), nps.summary(*b)), nps.compare(nps.summary(*b), nps.summary(*a))
    if forward.z is None:
        assert backward.z is None
        return
    assert backward.z == pytest.approx(-forward.z, abs=1e-9)
    assert backward.p_value == pytest.approx(forward.p_value, abs=1e-12)
    assert backward.significant == forward.significant


# --- CSAT and rates: Wilson (1927) ------------------------------------------------------------


def test_csat_eight_of_ten():
    # p = 0.8, z^2/n = 3.8416/10 = 0.38416, denominator = 1.38416
    # centre = (0.8 + 0.19208)/1.38416 = 0.99208/1.38416 = 0.716738
    # half = 1.96/1.38416 * sqrt(0.8 * 0.2/10 + 3.8416/400) = 1.416021 * sqrt(0.016 + 0.009604)
    #      = 1.416021 * 0.160012 = 0.226581
    # interval [0.716738 - 0.226581, 0.716738 + 0.226581] = [0.490157, 0.943319]
    c = nps.csat(8, 10)
    assert (c.successes, c.n, c.share) == (8, 10, 0.8)
    assert c.low == pytest.approx(0.490157, abs=1e-6)
    assert c.high == pytest.approx(0.943319, abs=1e-6)


def test_csat_ten_of_ten_is_not_certain():
    # p = 1: the Wilson bounds are 1/(1 + z^2/n) and 1
    # low = 1/1.38416 = 10/13.8416 = 0.722460 (a plain Wald interval would be [1, 1])
    c = nps.csat(10, 10)
    assert c.share == 1
    assert c.low == pytest.approx(0.722460, abs=1e-6)
    assert c.high == pytest.approx(1.0, abs=1e-12)


def test_csat_none_of_ten():
    # p = 0: low 0, high = (z^2/n)/(1 + z^2/n) = 0.38416/1.38416 = 0.277540
    c = nps.csat(0, 10)
    assert c.share == 0
    assert c.low == pytest.approx(0.0, abs=1e-12)
    assert c.high == pytest.approx(0.277540, abs=1e-6)


def test_csat_from_a_histogram():
    # {1: 1, 2: 1, 3: 2, 4: 4, 5: 2}: satisfied = 4 + 2 = 6 of 10, p = 0.6
    # centre = (0.6 + 0.19208)/1.38416 = 0.572246
    # half = 1.416021 * sqrt(0.6 * 0.4/10 + 0.009604) = 1.416021 * sqrt(0.033604) = 1.416021 * 0.183314 = 0.259576
    # interval [0.312670, 0.831822]
    c = nps.csat_from_histogram({1: 1, 2: 1, 3: 2, 4: 4, 5: 2})
    assert (c.successes, c.n, c.share) == (6, 10, 0.6)
    assert c.low == pytest.approx(0.312670, abs=1e-6)
    assert c.high == pytest.approx(0.831822, abs=1e-6)


def test_csat_without_answers():
    assert nps.csat(0, 0) == nps.Proportion(0, 0, None, None, None)
    assert nps.csat_from_histogram({}) == nps.Proportion(0, 0, None, None, None)
    assert nps.wilson(0, 0) is None


def test_csat_refuses_impossible_counts():
    with pytest.raises(ValueError, match="11 satisfied of 10"):
        nps.csat(11, 10)
    with pytest.raises(ValueError, match="cannot be negative"):
        nps.csat_from_histogram({5: -1})


def test_rates_without_a_base_are_none():
    assert nps.rate(0, 0) is None
    assert nps.rate(3, 4) == 0.75
    assert nps.response_rate(0, 0).share is None
    assert nps.comment_rate(0, 0).share is None
    assert nps.rates({}) == nps.Rates(nps.Proportion(0, 0, None, None, None), nps.Proportion(0, 0, None, None, None))


def test_a_week_with_more_responses_than_sends_has_a_rate_but_no_interval():
    # responses count in the week they arrive, sends in the week they go out: 15/10 = 1.5
    r = nps.response_rate(15, 10)
    assert r.share == 1.5
    assert r.low is None and r.high is None


@given(st.integers(1, 1000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_the_wilson_interval_holds_the_share_and_stays_in_0_1(counts):
    successes, n = counts
    low, high = nps.wilson(successes, n)
    assert 0 <= low <= successes / n <= high <= 1


# --- Means: CES with a Student t interval ---------------------------------------------------


@pytest.mark.parametrize(
    ("df", "expected"),
    # two-sided 95% (t 0.975) from the printed table, NIST/SEMATECH e-Handbook 1.3.6.7.2
    [
        (1, 12.706),
        (2, 4.303),
        (3, 3.182),
        (4, 2.776),
        (5, 2.571),
        (10, 2.228),
        (20, 2.086),
        (30, 2.042),
        (60, 2.000),
        (120, 1.980),
    ],
)
def test_t_critical_matches_the_table(df, expected):
    assert nps.t_critical(df) == pytest.approx(expected, abs=5e-4)


@pytest.mark.parametrize(("df", "expected"), [(1, 63.657), (5, 4.032), (10, 3.169), (30, 2.750)])
def test_t_critical_at_99_percent(df, expected):
    assert nps.t_critical(df, 0.99) == pytest.approx(expected, abs=5e-4)


def test_t_critical_tends_to_the_normal():
    # df = 1000 -> 1.962; df = 10^6 -> 1.95996, the normal quantile
    assert nps.t_critical(1000) == pytest.approx(1.962, abs=5e-4)
    assert nps.t_critical(10**6) == pytest.approx(1.95996, abs=1e-5)
    with pytest.raises(ValueError, match="at least 1 degree of freedom"):
        nps.t_critical(0)


def test_ces_mean_and_t_interval():
    # CES answers 5, 6, 6, 7, 5, 6: n = 6, sum = 35, sumsq = 25 + 36 + 36 + 49 + 25 + 36 = 207
    # mean = 35/6 = 5.833333
    # s^2 = (207 - 35^2/6)/5 = (207 - 204.166667)/5 = 2.833333/5 = 0.566667; s = 0.752773
    # t(0.975, 5) = 2.570582; SE = 0.752773/sqrt(6) = 0.307318; margin = 2.570582 * 0.307318 = 0.789986
    # interval [5.833333 - 0.789986, 5.833333 + 0.789986] = [5.043347, 6.623320]
    m = nps.mean_interval(6, 35, 207)
    assert m.n == 6
    assert m.mean == pytest.approx(5.833333, abs=1e-6)
    assert m.sd == pytest.approx(0.752773, abs=1e-6)
    assert m.margin == pytest.approx(0.789986, abs=1e-5)
    assert (m.low, m.high) == (pytest.approx(5.043347, abs=1e-5), pytest.approx(6.623320, abs=1e-5))


def test_two_ces_answers_give_a_very_wide_interval():
    # answers 3 and 5: mean 4, s^2 = (9 + 25 - 8^2/2)/1 = 34 - 32 = 2, s = 1.414214
    # t(0.975, 1) = 12.706205; margin = 12.706205 * 1.414214/sqrt(2) = 12.706205
    # interval [4 - 12.706205, 4 + 12.706205] = [-8.706205, 16.706205] (not clipped to the 1-7 scale)
    m = nps.mean_interval(2, 8, 34)
    assert m.mean == 4
    assert m.margin == pytest.approx(12.706205, abs=1e-6)
    assert (m.low, m.high) == (pytest.approx(-8.706205, abs=1e-6), pytest.approx(16.706205, abs=1e-6))


def test_identical_answers_have_no_spread():
    # 4, 4, 4: s^2 = (48 - 12^2/3)/2 = (48 - 48)/2 = 0 -> margin 0
    m = nps.mean_interval(3, 12, 48)
    assert (m.mean, m.sd, m.margin, m.low, m.high) == (4, 0, 0, 4, 4)


def test_one_answer_has_a_mean_but_no_interval():
    assert nps.mean_interval(1, 6, 36) == nps.MeanInterval(1, 6, None, None, None, None)


def test_no_answers_have_no_mean():
    assert nps.mean_interval(0, 0, 0) == nps.MeanInterval(0, None, None, None, None, None)


def test_a_mean_interval_is_clipped_to_its_scale():
    # CES answers 7, 7, 6, 7: mean 6.75, s = 0.5, t(3) = 3.182, margin 3.182 * 0.5 / 2 = 0.7955:
    # 5.9545 to 7.5455, and no mean of a 1-7 scale exceeds 7
    m = nps.mean_interval(4, 27, 183, scale=(1, 7))
    assert m.mean == 6.75 and m.margin == pytest.approx(0.7955, abs=1e-3)
    assert (m.low, m.high) == (pytest.approx(5.9545, abs=1e-3), 7)
    assert nps.mean_interval(4, 27, 183).high == pytest.approx(7.5455, abs=1e-3)  # without a scale, unclipped
    # CSAT 1, 1, 2 on 1-5: mean 1.33, margin 1.43, clipped below at 1
    assert nps.mean_interval(3, 4, 6, scale=(1, 5)).low == 1
