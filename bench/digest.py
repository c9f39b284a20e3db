"""What building and sending a digest reads, for a campaign with 100,000 responses: counter items, not responses.

Seeding 100,000 answers through the app takes long on DynamoDB Local, so this bench writes
what the applier would have written for them: the week and day counter items of 12 weeks
(segments plan x3 and region x2, so 6 segment keys per period), whose counts add up to
100,000 responses. Beside them it writes 2,000 real response items (the newest, 1,000 in the
covered week, few of them detractors with a comment) so the comment list reads a real index
page, and 25 overdue open cases. Then it meters every DynamoDB request of building the
weekly and the monthly digest, and of sending one weekly digest through the schedule's own
code: operation, table or index, items read, and the capacity DynamoDB Local reports.

Target: the reads do not grow with the number of responses (counter items plus a fixed handful).
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import bench
from bench.meter import READS, attach_everywhere, short
from bench.meter import Meter as RequestMeter

RESPONSES = 100_000
REAL_RESPONSES = 2_000
OPEN_CASES = 25
TIMEZONE = "Europe/Paris"
COVERED = date(2026, 11, 16)  # Monday of ISO week 47, covered by the digest of Monday 23 November
WEEKS = 12


class Meter(RequestMeter):
    """Adds, per operation and table (or index), the calls, the items read and the capacity reported."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: dict[str, Counter] = defaultdict(Counter)
        self.read_items: dict[str, Counter] = defaultdict(Counter)
        self.capacity: dict[str, Counter] = defaultdict(Counter)

    def _before(self, params: dict, model: Any, context: dict, **rest: Any) -> None:
        super()._before(params, model, context, **rest)
        table = params.get("TableName") or ",".join(params.get("RequestItems", {})) or "?"
        context["bench_target"] = short(table) + (f"/{params['IndexName']}" if "IndexName" in params else "")

    def _after(self, parsed: dict, model: Any, context: dict, **rest: Any) -> None:
        super()._after(parsed, model, context, **rest)
        if self.phase is None:
            return
        target = f"{model.name} {context.get('bench_target', '?')}"
        self.calls[self.phase][target] += 1
        read = parsed.get("ScannedCount", parsed.get("Count"))  # items read, before any filter
        if read is None and "Responses" in parsed:
            read = sum(len(items) for items in parsed["Responses"].values())
        if read is None:
            read = 1 if "Item" in parsed else 0
        self.read_items[self.phase][target] += read
        used = parsed.get("ConsumedCapacity") or []
        for entry in [used] if isinstance(used, dict) else used:
            self.capacity[self.phase][target] += float(entry.get("CapacityUnits", 0))

    def units(self, phase: str, reads: bool) -> float:
        return sum(u for target, u in self.capacity[phase].items() if (target.split()[0] in READS) == reads)


def counter_items(campaign_id: str, rng: random.Random) -> dict[str, Counter]:
    """Week and day items for RESPONSES answers over WEEKS weeks, as the applier would have counted them."""
    from chalicelib.core import counters, nps

    first = COVERED - timedelta(weeks=WEEKS - 1)
    days = [first + timedelta(days=n) for n in range(WEEKS * 7)]
    per_day = RESPONSES // len(days)
    items: dict[str, Counter] = defaultdict(Counter)
    for n, day in enumerate(days):
        answers = per_day + (1 if n < RESPONSES - per_day * len(days) else 0)
        mood = 0.45 + 0.1 * ((day.isocalendar()[1] % 5) / 4)  # promoter share moves from week to week
        for _ in range(answers):
            plan, region = rng.choice(bench.PLANS), rng.choice(bench.REGIONS)
            roll = rng.random()
            score = (
                rng.choice((9, 10)) if roll < mood else rng.choice((7, 8)) if roll < mood + 0.25 else rng.randint(0, 6)
            )
            counts = Counter(
                {
                    "invited": 1,
                    "sent": 1,
                    "responses": 1,
                    counters.CATEGORY_COUNTERS[nps.category(score)]: 1,
                    "q.nps.n": 1,
                    "q.nps.sum": score,
                    "q.nps.sq": score * score,
                    f"q.nps.v{score}": 1,
                }
            )
            if rng.random() < 0.3:
                counts["comments"] += 1
                counts[f"theme.{rng.choice(('pricing', 'support', 'onboarding'))}"] += 1
            week = counters.week_period(datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp(), "UTC")
            for period in (week, f"D#{day.isoformat()}"):
                for segment in counters.segment_keys({"plan": plan, "region": region}, bench.SEGMENTS):
                    items[counters.counter_key(period, segment)].update(counts)
    return items


def write_counters(campaign_id: str, items: dict[str, Counter]) -> None:
    from chalicelib.store import raw_client, table_name
    from chalicelib.store.models import Counter as CounterModel

    client, name = raw_client(), table_name(CounterModel)
    requests = [
        {
            "PutRequest": {
                "Item": {
                    "campaign_id": {"S": campaign_id},
                    "key": {"S": key},
                    **{count: {"N": str(value)} for count, value in counts.items() if value},
                }
            }
        }
        for key, counts in items.items()
    ]
    for start in range(0, len(requests), 25):
        batch = {name: requests[start : start + 25]}
        while batch:
            batch = client.batch_write_item(RequestItems=batch).get("UnprocessedItems") or {}


def write_responses(campaign_id: str, rng: random.Random) -> None:
    """The newest REAL_RESPONSES answers as invitation items in the campaign-responses index, and open cases."""
    from chalicelib.core import nps
    from chalicelib.store.models import Invitation

    zone = ZoneInfo(TIMEZONE)
    start = datetime.combine(COVERED - timedelta(days=7), datetime.min.time(), zone).timestamp()
    span = 14 * 86400
    with Invitation.batch_write() as batch:
        for n in range(REAL_RESPONSES):
            answered = start + span * n / REAL_RESPONSES
            score = rng.randint(7, 10) if n % 40 else rng.randint(0, 6)  # one detractor in 40
            category = nps.category(score)
            comment = "Too expensive since the last price change" if category == nps.DETRACTOR else None
            case = n < OPEN_CASES * 40 and category == nps.DETRACTOR
            batch.save(
                Invitation(
                    f"bench-{n:05d}",
                    campaign_id=campaign_id,
                    email=f"customer{n:05d}@example.com",
                    properties={"plan": bench.PLANS[n % 3], "region": bench.REGIONS[n % 2]},
                    created_at=answered - 86400,
                    expires_at=answered + 180 * 86400,
                    send_state="sent",
                    sent_at=answered - 3600,
                    answers={"nps": score},
                    score=score,
                    category=category,
                    comment=comment,
                    evidence="submit",
                    answered_at=answered,
                    updated_at=answered,
                    answer_version=1,
                    responded_campaign=campaign_id,
                    loop_status="new",
                    case_campaign=campaign_id if case else None,
                    case_due_at=answered + 48 * 3600 if case else None,
                )
            )


def run() -> dict:
    from chalicelib.campaigns import campaigns
    from chalicelib.core.config import get_settings
    from chalicelib.insight import digest, digest_recipients

    started = time.perf_counter()
    rng = random.Random(9)
    with bench.dynamodb_local() as endpoint, bench.closeloop_tables(endpoint):
        zone = ZoneInfo(TIMEZONE)
        created = datetime.combine(COVERED - timedelta(weeks=WEEKS), datetime.min.time(), zone).timestamp()
        body = {"name": "Bench digest", "survey": bench.SURVEY, "segments": list(bench.SEGMENTS), "timezone": TIMEZONE}
        campaign = campaigns.create_campaign(campaigns.parse_campaign(body), created)
        campaigns.start_sending(campaign.id, created, None, _NoQueue())
        items = counter_items(campaign.id, rng)
        write_counters(campaign.id, items)
        send_time = datetime(2026, 11, 23, 8, 5, tzinfo=zone).timestamp()
        write_responses(campaign.id, rng)
        digest_recipients.set_recipients(campaign.id, {"recipients": ["cx@bench.example"]}, created)
        seeded = time.perf_counter() - started
        campaign = campaigns.get_view(campaign.id)
        meter = Meter()
        attach_everywhere(meter)
        built = {}
        for frequency in ("weekly", "monthly"):
            period = digest.latest_period(
                frequency, send_time if frequency == "weekly" else _first_of_december(), TIMEZONE
            )
            meter.phase = f"build {frequency}"
            t = time.perf_counter()
            built[frequency] = digest.preview(campaign, period, send_time)
            digest.render_message(built[frequency], "cx@bench.example", get_settings())
            built[f"{frequency} seconds"] = time.perf_counter() - t
        meter.phase = "send weekly (schedule)"
        outcome = digest.send_due(send_time)
        meter.phase = None
    summed = sum(c["responses"] for k, c in items.items() if k.startswith("W#") and k.endswith("#_"))
    return {
        "meter": meter,
        "built": built,
        "outcome": outcome,
        "counter_items": len(items),
        "responses_counted": summed,
        "seed_seconds": seeded,
        "seconds": time.perf_counter() - started,
    }


def _first_of_december() -> float:
    return datetime(2026, 12, 1, 8, 5, tzinfo=ZoneInfo(TIMEZONE)).timestamp()


class _NoQueue:
    """The campaign is marked sending without a fan-out: its counters are written directly."""

    def send(self, messages: list) -> None:
        return None


def report(result: dict) -> None:
    meter: Meter = result["meter"]
    bench.title(
        f"digest: DynamoDB reads for a campaign with {result['responses_counted']:,} responses (DynamoDB Local)"
    )
    print(
        f"seeded: {result['counter_items']:,} counter items (12 weeks of week and day items, 6 segment keys) "
        f"counting {result['responses_counted']:,} responses, written directly as the applier would have; "
        f"{REAL_RESPONSES:,} real response items and {OPEN_CASES} open cases for the lists"
    )
    per_item, response_items = [], 0
    for phase in meter.calls:
        reads = sum(n for target, n in meter.calls[phase].items() if target.split()[0] in READS)
        writes = sum(meter.calls[phase].values()) - reads
        print(
            f"{phase}: {reads} read requests, {writes} write requests, "
            f"{meter.units(phase, True):g} RCU, {meter.units(phase, False):g} WCU"
        )
        for target, n in sorted(meter.calls[phase].items()):
            items, units = meter.read_items[phase][target], meter.capacity[phase][target]
            print(f"    {target:<46} x{n:<3} items read {items:>5,}  {units:>6g} RCU/WCU")
            if "campaign-responses" in target:
                per_item.append(units / max(1, items))
        response_items = max(
            response_items,
            sum(v for t, v in meter.read_items[phase].items() if "campaign-responses" in t or "open-cases" in t),
        )
    weekly = result["built"]["weekly"]
    print(
        f"weekly digest: {weekly.headline} ({weekly.interval}); {len(weekly.trend)} trend weeks, "
        f"{sum(len(g.rows) for g in weekly.segments)} segment rows, {len(weekly.comments)} comments, "
        f"{weekly.cases_total} open cases; built and rendered in {result['built']['weekly seconds'] * 1000:.0f} ms"
    )
    print(f"send_due: {result['outcome']}")
    everything = RESPONSES * max(per_item)
    ok = response_items <= 2 * 100 + OPEN_CASES + 10 and result["outcome"] == {"sent": 1}
    print(
        f"target: reads do not grow with responses: at most {response_items} response items read per digest "
        f"(2 pages of 100 for the comments, the open cases); reading all {RESPONSES:,} responses at the "
        f"measured {max(per_item):.3f} RCU per item would cost about {everything:,.0f} RCU  {bench.verdict(ok)}"
    )
    print(f"ran in {result['seconds']:.1f}s (seeding {result['seed_seconds']:.1f}s)")


def main() -> None:
    report(run())


if __name__ == "__main__":
    main()
