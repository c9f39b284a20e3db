"""Survey statistics: pure functions over counts.

NPS with its adjusted-Wald interval and a test for a change between two periods, CSAT share
with a Wilson interval, a mean with a Student t interval (CES and other scales), and rates.
Everything is computed from the integers a counter item holds (see `chalicelib.core.counters`),
so the digest and the metrics API read one path: `from_counts`, `question_stats`, `rates`.

Conventions: NPS values, margins and differences are in points (-100..100); shares and rates
are fractions (0..1). Nothing is rounded here; presentation rounds. "No answers" is `None`,
never 0, because an empty sample is not a neutral score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.core import i18n

# The category of a score is what an answer adds to the counters; it lives there so that recording
# an answer does not load these statistics (cold start), and is named here as ever.
from chalicelib.core.counters import CATEGORIES as CATEGORIES
from chalicelib.core.counters import DETRACTOR as DETRACTOR
from chalicelib.core.counters import PASSIVE as PASSIVE
from chalicelib.core.counters import PROMOTER as PROMOTER
from chalicelib.core.counters import category as category

Z95 = 1.96
"""Two-sided 95% critical value of the standard normal, as used by every interval below."""

SATISFIED = (4, 5)
"""CSAT answers counted as satisfied on the 1-5 scale (the top two boxes)."""


# --- NPS ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NpsSummary:
    """Counts and shares of the three categories; shares and nps are None when n = 0."""

    n: int
    promoters: int
    passives: int
    detractors: int
    promoter_share: float | None
    passive_share: float | None
    detractor_share: float | None
    nps: float | None


@dataclass(frozen=True)
class NpsInterval:
    """Adjusted-Wald 95% interval in points: centre is the adjusted NPS', margin the unclipped half-width;
    low and high are clipped to -100..100 and always hold the observed NPS (see `adjusted_wald`)."""

    n: int
    centre: float
    margin: float
    low: float
    high: float


@dataclass(frozen=True)
class NpsStats:
    """Everything a report shows for NPS: the summary, its adjusted interval and, for comparison, plain Wald."""

    summary: NpsSummary
    interval: NpsInterval
    wald_se: float | None
    wald_margin: float | None


@dataclass(frozen=True)
class NpsChange:
    """Current period against previous: differences in points, z and p from the adjusted values.

    `difference` is the plain NPS difference (what a reader sees in the two headline numbers);
    `adjusted_difference` is NPS'1 - NPS'2, the numerator of z. Both, z and p are None when
    either period has no answers; `significant` is then False.
    """

    current: NpsSummary
    previous: NpsSummary
    difference: float | None
    adjusted_difference: float | None
    z: float | None
    p_value: float | None
    significant: bool


def _check_counts(**counts: int) -> None:
    for name, value in counts.items():
        if value < 0:
            raise ValueError(f"{name} cannot be negative ({value})")


def summary(promoters: int, passives: int, detractors: int) -> NpsSummary:
    """NPS = % promoters (9-10) - % detractors (0-6), in points (Reichheld 2003, HBR 81(12)).

    With no answers the score is None, not 0: an empty sample says nothing, while 0 would read
    as "as many promoters as detractors".
    """
    _check_counts(promoters=promoters, passives=passives, detractors=detractors)
    n = promoters + passives + detractors
    if n == 0:
        return NpsSummary(0, 0, 0, 0, None, None, None, None)
    return NpsSummary(
        n=n,
        promoters=promoters,
        passives=passives,
        detractors=detractors,
        promoter_share=promoters / n,
        passive_share=passives / n,
        detractor_share=detractors / n,
        nps=100 * (promoters - detractors) / n,
    )


def _adjusted(promoters: int, passives: int, detractors: int) -> tuple[float, float, float]:
    """(NPS', Var', n') of Rocks 2016: add 3/4 promoter, 3/4 detractor and 3/2 passive (n' = n + 3)."""
    _check_counts(promoters=promoters, passives=passives, detractors=detractors)
    n_adj = promoters + passives + detractors + 3
    p_adj = (promoters + 0.75) / n_adj
    d_adj = (detractors + 0.75) / n_adj
    nps_adj = p_adj - d_adj
    return nps_adj, p_adj + d_adj - nps_adj * nps_adj, n_adj


def adjusted_wald(promoters: int, passives: int, detractors: int) -> NpsInterval:
    """Adjusted-Wald 95% interval for NPS, in points, clipped to [-100, 100].

    Rocks, B. (2016), "Interval Estimation for the 'Net Promoter Score'", The American
    Statistician 70(4), 365-372 (arXiv:1601.07235), found adjusted-Wald variants and an iterative
    score interval to perform best; this is the variant described by Lewis & Sauro, MeasuringU,
    "Confidence Intervals for Net Promoter Scores" (https://measuringu.com/nps-confidence-intervals/):
    n' = n + 3, p' = (P + 0.75)/n', d' = (D + 0.75)/n', NPS' = p' - d', Var' = p' + d' - NPS'^2,
    interval NPS' +/- 1.96 sqrt(Var'/n').
    Unlike plain Wald it keeps a real width at n = 0 (centre 0, margin 80 points), n = 1 and
    all-promoter or all-detractor samples, where plain Wald collapses to +/- 0.

    The interval is centred on NPS', which lies nearer 0 than the observed NPS; for a sample of one
    or a few answers of one category it can leave the observed NPS out (one detractor: NPS -100,
    interval -98.5 to +48.5). There the bound is moved to the observed NPS (-100 to +48.5): a wider
    interval only covers more, and no report then shows a score outside its own interval.
    """
    nps_adj, var_adj, n_adj = _adjusted(promoters, passives, detractors)
    centre = 100 * nps_adj
    margin = 100 * Z95 * math.sqrt(var_adj / n_adj)
    low, high = max(-100.0, centre - margin), min(100.0, centre + margin)
    observed = summary(promoters, passives, detractors).nps
    if observed is not None:
        low, high = min(low, observed), max(high, observed)
    return NpsInterval(n=promoters + passives + detractors, centre=centre, margin=margin, low=low, high=high)


def wald_se(promoters: int, passives: int, detractors: int) -> float | None:
    """Plain Wald standard error of NPS as a fraction: sqrt((p + d - (p - d)^2)/n); None at n = 0.

    The variance of the difference of two multinomial shares, the Wald baseline of Rocks 2016. Kept
    for comparison only: it is 0 for a sample of one category, so its interval claims certainty.
    """
    _check_counts(promoters=promoters, passives=passives, detractors=detractors)
    n = promoters + passives + detractors
    if n == 0:
        return None
    p, d = promoters / n, detractors / n
    return math.sqrt(max(0.0, p + d - (p - d) ** 2) / n)


def wald_margin(promoters: int, passives: int, detractors: int) -> float | None:
    """Plain Wald 95% margin in points, 1.96 * SE * 100 (Rocks 2016); None at n = 0."""
    se = wald_se(promoters, passives, detractors)
    return None if se is None else 100 * Z95 * se


def nps_stats(promoters: int, passives: int, detractors: int) -> NpsStats:
    """Summary, adjusted-Wald interval (Rocks 2016) and plain Wald SE and margin for one sample."""
    return NpsStats(
        summary=summary(promoters, passives, detractors),
        interval=adjusted_wald(promoters, passives, detractors),
        wald_se=wald_se(promoters, passives, detractors),
        wald_margin=wald_margin(promoters, passives, detractors),
    )


def from_counts(counts: Mapping[str, int]) -> NpsStats:
    """NPS statistics from a counter item (`promoters`, `passives`, `detractors`; absent means 0).

    One path for the digest and the metrics API; the formulas are those of `summary`
    (Reichheld 2003) and `adjusted_wald` (Rocks 2016).
    """
    return nps_stats(counts.get("promoters", 0), counts.get("passives", 0), counts.get("detractors", 0))


def two_sided_p(z: float) -> float:
    """Two-sided p-value of a standard normal z: P(|Z| > |z|) = erfc(|z|/sqrt 2) (Abramowitz & Stegun 1964, ch. 26)."""
    return math.erfc(abs(z) / math.sqrt(2))


def compare(current: NpsSummary, previous: NpsSummary) -> NpsChange:
    """Is the change between two independent periods more than noise? z test on the adjusted values.

    z = (NPS'1 - NPS'2) / sqrt(Var'1/n'1 + Var'2/n'2), significant at 5% two-sided when
    |z| > 1.96; p = erfc(|z|/sqrt 2). Lewis & Sauro, MeasuringU, "How to Statistically Compare
    Two Net Promoter Scores" (https://measuringu.com/nps-significance-test/), built on the
    adjusted-Wald variance of Rocks 2016. With no answers in either period nothing is compared.
    """
    if current.n == 0 or previous.n == 0:
        return NpsChange(current, previous, None, None, None, None, False)
    nps1, var1, n1 = _adjusted(current.promoters, current.passives, current.detractors)
    nps2, var2, n2 = _adjusted(previous.promoters, previous.passives, previous.detractors)
    z = (nps1 - nps2) / math.sqrt(var1 / n1 + var2 / n2)
    assert current.nps is not None and previous.nps is not None
    return NpsChange(
        current=current,
        previous=previous,
        difference=current.nps - previous.nps,
        adjusted_difference=100 * (nps1 - nps2),
        z=z,
        p_value=two_sided_p(z),
        significant=abs(z) > Z95,
    )


def format_p(p: float, locale: str = i18n.DEFAULT_LOCALE) -> str:
    """A p-value the usual way: two decimals, three below 0.01, "p < 0.001" below (APA Publication Manual, 7th ed.).

    The leading zero is kept ("p = 0.62", not "p = .62") for readers outside research; the decimal
    sign is the `locale`'s ("p = 0,62" in German).
    """
    if p < 0.001:
        return p_below(0.001, locale)
    return _p_text("=", p, 3 if p < 0.01 else 2, locale)


def p_below(threshold: float, locale: str = i18n.DEFAULT_LOCALE) -> str:
    """ "p < 0.05" (a significance level, or a p-value too small to print), decimals as `locale` writes them."""
    return _p_text("<", threshold, 3 if threshold < 0.01 else 2, locale)


def _p_text(relation: str, value: float, places: int, locale: str) -> str:
    text = f"p {relation} {i18n.format_fixed(value, places, locale)}"
    # isolated left to right in a right-to-left language, so "p < 0.05" is not mirrored into "0.05 > p"
    return f"\u2066{text}\u2069" if i18n.direction(locale) == "rtl" else text


def whole_points(value: float) -> int:
    """Rounded to whole points, halves away from zero (12.5 -> 13, -12.5 -> -13), as NPS is usually reported.

    Python's round() rounds halves to even (round(12.5) == 12), which readers do not expect.
    """
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def describe_change(change: NpsChange, since: str | None = None, locale: str = i18n.DEFAULT_LOCALE) -> str:
    """The change in words a CX lead can act on, e.g. "up 12 points since last week, a real change (p = 0.01)".

    The verdict is that of `compare` (Lewis & Sauro, MeasuringU, adjusted-Wald z test); the
    points are the plain NPS difference, rounded to whole points as NPS is usually reported.
    `since` names the previous period ("last week"); the words are in `locale` (a key of i18n.LANGUAGES).
    """
    words = i18n.translations(locale)
    if change.difference is None or change.p_value is None:
        return words.gettext("no answers in one of the periods: nothing to compare")
    points = whole_points(change.difference)
    number = i18n.format_number(abs(points), locale)
    if points == 0:
        movement = (
            words.gettext("unchanged since %(period)s") % {"period": since} if since else words.gettext("unchanged")
        )
    elif since:
        movement = (
            words.ngettext("up %(num)s point since %(period)s", "up %(num)s points since %(period)s", abs(points))
            if points > 0
            else words.ngettext(
                "down %(num)s point since %(period)s", "down %(num)s points since %(period)s", abs(points)
            )
        ) % {"num": number, "period": since}
    else:
        movement = (
            words.ngettext("up %(num)s point", "up %(num)s points", abs(points))
            if points > 0
            else words.ngettext("down %(num)s point", "down %(num)s points", abs(points))
        ) % {"num": number}
    p_text = format_p(change.p_value, locale)
    if change.significant and change.p_value >= 0.045:  # 0.045 <= p < 0.05 would read "p = 0.05", not significant
        p_text = p_below(0.05, locale)
    if change.significant:
        return words.gettext("%(change)s, a real change (%(p)s)") % {"change": movement, "p": p_text}
    return words.gettext("%(change)s, within the noise: not a significant change (%(p)s)") % {
        "change": movement,
        "p": p_text,
    }


# --- Shares: CSAT and rates -----------------------------------------------------------------


@dataclass(frozen=True)
class Proportion:
    """A share with its Wilson 95% interval; share and interval are None when n = 0.

    The interval is also None when successes exceed n, which weekly counters allow for rates
    (a response counted this week to an invitation sent last week).
    """

    successes: int
    n: int
    share: float | None
    low: float | None
    high: float | None


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for a binomial share; None when n = 0 or successes is not in 0..n.

    Wilson, E. B. (1927), "Probable Inference, the Law of Succession, and Statistical
    Inference", JASA 22(158), 209-212; recommended over Wald for small n and shares near 0 or 1
    by Agresti & Coull (1998), "Approximate Is Better than 'Exact' for Interval Estimation of
    Binomial Proportions", The American Statistician 52(2), 119-126.
    (p + z^2/2n +/- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n).
    """
    if n <= 0 or not 0 <= successes <= n:
        return None
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # the bounds hold p exactly: float rounding could otherwise give 0.9999999999999999 for 21 of 21
    return min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half))


def proportion(successes: int, n: int) -> Proportion:
    """successes / n with its Wilson interval (Wilson 1927; Agresti & Coull 1998); None share at n = 0."""
    _check_counts(successes=successes, n=n)
    interval = wilson(successes, n)
    return Proportion(
        successes=successes,
        n=n,
        share=successes / n if n else None,
        low=interval[0] if interval else None,
        high=interval[1] if interval else None,
    )


def csat(satisfied: int, n: int) -> Proportion:
    """CSAT: the share of 4-5 answers on the 1-5 scale (the top-two-box convention), Wilson interval.

    Interval from Wilson (1927, JASA 22(158)), as recommended by Agresti & Coull (1998, The
    American Statistician 52(2)): a plain Wald interval would be [1, 1] for 10 satisfied of 10.
    """
    if satisfied > n:
        raise ValueError(f"{satisfied} satisfied of {n} answers")
    return proportion(satisfied, n)


def csat_from_histogram(histogram: Mapping[int, int]) -> Proportion:
    """CSAT from answer counts per value, e.g. {1: 2, 4: 5, 5: 3}: satisfied = 4s + 5s (Wilson 1927 interval)."""
    _check_counts(**{f"answers of {value}": count for value, count in histogram.items()})
    return csat(sum(histogram.get(v, 0) for v in SATISFIED), sum(histogram.values()))


@dataclass(frozen=True)
class Rates:
    """Response rate (mailed responses / sent) and comment rate (comments / responses), each with a Wilson interval."""

    response_rate: Proportion
    comment_rate: Proportion


def rate(numerator: int, denominator: int) -> float | None:
    """numerator / denominator, None when the denominator is 0 (no base is not a 0% rate; AAPOR RR1 style)."""
    return numerator / denominator if denominator else None


def response_rate(responses: int, sent: int) -> Proportion:
    """Responses to mailed invitations per invitation sent (AAPOR Standard Definitions, RR1 with sent
    invitations as the base); an answer to no mailed invitation is in neither (`mailed_responses`).

    Wilson interval (Wilson 1927). Weekly counters count a response in the week it arrives, so
    a week can show more responses than sends; the share is then above 1 and the interval None.
    """
    return proportion(responses, sent)


def comment_rate(comments: int, responses: int) -> Proportion:
    """Share of responses with a comment, Wilson interval (Wilson 1927; Agresti & Coull 1998)."""
    return proportion(comments, responses)


def mailed_responses(counts: Mapping[str, int]) -> int:
    """Responses to invitations that were mailed: `responses` less `responses_unmailed` (answers posted through
    the v1 API for people never mailed), the numerator of the response rate."""
    return counts.get("responses", 0) - counts.get("responses_unmailed", 0)


def rates(counts: Mapping[str, int]) -> Rates:
    """Response and comment rates from a counter item (AAPOR RR1, Wilson 1927): the response rate is mailed
    responses (`mailed_responses`) of `sent`, so an answer nobody was mailed for never lifts it; the comment
    rate is `comments` of every response."""
    responses = counts.get("responses", 0)
    return Rates(
        response_rate=response_rate(mailed_responses(counts), counts.get("sent", 0)),
        comment_rate=comment_rate(counts.get("comments", 0), responses),
    )


@dataclass(frozen=True)
class ProportionChange:
    """Current share against previous: difference (a fraction), pooled z and p; None when either share is undefined."""

    current: Proportion
    previous: Proportion
    difference: float | None
    z: float | None
    p_value: float | None
    significant: bool


def compare_proportions(current: Proportion, previous: Proportion) -> ProportionChange:
    """Did a rate really change? Two-proportion z test with the pooled share (two-sided, 5%).

    z = (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2)) with p = (x1 + x2) / (n1 + n2); z^2 is Pearson's
    chi-square of the fourfold table without continuity correction (Fleiss, Levin & Paik 2003,
    Statistical Methods for Rates and Proportions, 3rd ed., Wiley, ch. 2). p = erfc(|z|/sqrt 2).
    Nothing is compared when a share is undefined: no base, or more successes than the base
    (a week's responses to invitations sent the week before).
    """
    if current.share is None or previous.share is None or current.low is None or previous.low is None:
        return ProportionChange(current, previous, None, None, None, False)
    difference = current.share - previous.share
    pooled = (current.successes + previous.successes) / (current.n + previous.n)
    se = math.sqrt(pooled * (1 - pooled) * (1 / current.n + 1 / previous.n))
    z = difference / se if se else 0.0
    return ProportionChange(current, previous, difference, z, two_sided_p(z), abs(z) > Z95)


# --- Means: CES and other scales --------------------------------------------------------------


@dataclass(frozen=True)
class MeanInterval:
    """Mean with a Student t 95% interval; mean None at n = 0, sd/margin/low/high None at n < 2.

    margin is the unclipped half-width; low and high are clipped to the scale when it is given.
    """

    n: int
    mean: float | None
    sd: float | None
    margin: float | None
    low: float | None
    high: float | None


def t_critical(df: int, confidence: float = 0.95) -> float:
    """Two-sided Student t critical value for `df` degrees of freedom, without SciPy.

    Hill, G. W. (1970), "Algorithm 396: Student's t-Quantiles", Communications of the ACM 13(10),
    619-620: exact for df = 1 and 2, an expansion about the normal quantile beyond (the method R's
    qt uses before its refinement step). Checked in the tests against the printed table (NIST/SEMATECH
    e-Handbook of Statistical Methods, 1.3.6.7.2): 12.706, 4.303, 2.571, 2.228, 2.042, 1.980.
    """
    if df < 1:
        raise ValueError(f"a t distribution needs at least 1 degree of freedom, not {df}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence is between 0 and 1, not {confidence}")
    p = 1 - confidence  # two-tailed probability
    if df == 1:
        return 1 / math.tan(p * math.pi / 2)
    if df == 2:
        return math.sqrt(2 / (p * (2 - p)) - 2)
    a = 1 / (df - 0.5)
    b = 48 / (a * a)
    c = ((20700 * a / b - 98) * a - 16) * a + 96.36
    d = ((94.5 / (b + c) - 3) / b + 1) * math.sqrt(a * math.pi / 2) * df
    y = (d * p) ** (2 / df)
    if y > 0.05 + a:
        from statistics import NormalDist  # cold start: statistics and fractions, for df > 2 only

        x = NormalDist().inv_cdf(0.5 * p)
        y = x * x
        if df < 5:
            c += 0.3 * (df - 4.5) * (x + 0.6)
        c = (((0.05 * d * x - 5) * x - 7) * x - 2) * x + b + c
        y = (((((0.4 * y + 6.3) * y + 36) * y + 94.5) / c - y - 3) / b + 1) * x
        y = math.expm1(a * y * y)
    else:
        inner = 1 / (((df + 6) / (df * y) - 0.089 * d - 0.822) * (df + 2) * 3) + 0.5 / (df + 4)
        y = (inner * y - 1) * (df + 1) / (df + 2) + 1 / y
    return math.sqrt(df * y)


def mean_interval(n: int, total: float, sum_squares: float, scale: tuple[int, int] | None = None) -> MeanInterval:
    """Mean and its t-based 95% interval from n, sum and sum of squares (Student 1908, Biometrika 6(1)).

    s^2 = (sumsq - sum^2/n) / (n - 1), margin = t(0.975, n - 1) * s / sqrt(n), with t from
    `t_critical` (Hill 1970). Used for CES (Dixon, Freeman & Toman 2010, HBR "Stop Trying to
    Delight Your Customers") and other scales. One answer gives a mean but no interval.
    `scale` (lowest, highest answer, e.g. (1, 7) for CES) clips the interval: the symmetric t
    interval of a mean near an end reaches past it (6.8 +/- 0.5 on 1-7), and no mean can.
    """
    _check_counts(n=n)
    if n == 0:
        return MeanInterval(0, None, None, None, None, None)
    mean = total / n
    if n == 1:
        return MeanInterval(1, mean, None, None, None, None)
    variance = max(0.0, (sum_squares - total * total / n) / (n - 1))
    sd = math.sqrt(variance)
    margin = t_critical(n - 1) * sd / math.sqrt(n)
    low, high = mean - margin, mean + margin
    if scale is not None:
        low, high = max(float(scale[0]), low), min(float(scale[1]), high)
    return MeanInterval(n, mean, sd, margin, low, high)


@dataclass(frozen=True)
class QuestionStats:
    """One scale question from a counter item: mean interval, histogram and CSAT share.

    `csat` is the share of 4-5 answers; it is None when the caller says the question is not a
    CSAT question (a 4 on a 0-10 or 1-7 scale is not "satisfied").
    """

    question_id: str
    n: int
    mean: MeanInterval
    histogram: dict[int, int]
    csat: Proportion | None


def histogram(counts: Mapping[str, int], question_id: str) -> dict[int, int]:
    """Answer counts per value from the counters `q.<id>.v<value>`, sorted by value (see `chalicelib.core.counters`)."""
    prefix = f"q.{question_id}.v"
    values: dict[int, int] = {}
    for name, count in counts.items():
        if name.startswith(prefix):
            try:
                values[int(name[len(prefix) :])] = count
            except ValueError:
                continue
    return dict(sorted(values.items()))


def question_stats(
    counts: Mapping[str, int],
    question_id: str,
    question_type: str | None = None,
    scale: tuple[int, int] | None = None,
) -> QuestionStats:
    """Mean with t interval from `q.<id>.n/sum/sq` (Student 1908, Hill 1970) and CSAT share from `v4 + v5`.

    The CSAT share (Wilson 1927 interval) is computed unless `question_type` is given and is not
    "csat". Counters that moved to 0 after an edit stay in the histogram as 0 and change nothing.
    A question answered only with 0 has no `sum` counter (zeros are not stored), which reads as 0.
    `scale` (lowest, highest answer) clips the mean's interval (see `mean_interval`).
    Raises ValueError for a question with answers but no histogram (a choice or text question).
    """
    prefix = f"q.{question_id}."
    n = counts.get(prefix + "n", 0)
    values = histogram(counts, question_id)
    if n and not values:
        raise ValueError(f"question {question_id} has answers but no scale histogram: not a scale question")
    share = csat_from_histogram(values) if question_type in (None, "csat") else None
    return QuestionStats(
        question_id=question_id,
        n=n,
        mean=mean_interval(n, counts.get(prefix + "sum", 0), counts.get(prefix + "sq", 0), scale),
        histogram=values,
        csat=share,
    )
