"""Invitations processed per second of handler time, and what each costs, for 10,000 recipients.

Issue 3, done when: bench/ prints invitations processed per second of handler time and
DynamoDB requests per invitation for 10,000 recipients.

A fresh DynamoDB Local and tables, a campaign with two segments, then the admin API's path:
import 10,000 recipients (`chalicelib.sending.imports.start`: rows are validated at once, then written
in chunks of 500 through the work queue), start sending (`campaigns.start_sending`: a fan-out
message), and the work queue drained through `chalicelib.runtime.work.handle`, one message per
invocation as deployed (batch size 1), with no pacing (CLOSELOOP_SEND_RATE=0) and the file
mail backend. The counting applier (`counting.apply_pending`) runs until nothing is pending
after the import and again after the send: it runs once a minute, and a campaign sent at
SES's pace takes longer than that, so in production it counts each invitation twice (invited,
then sent); the report also says what one pass would save. Measured per phase: the time
spent inside the handlers (the API calls that start each phase, every work message, every
applier pass; not DynamoDB Local's start, table creation or the bench's own checks),
invocations by message kind, queue messages, DynamoDB requests by operation, the capacity
DynamoDB Local reports, and the per-item WCU estimate of bench.meter.

SQS is priced as requests: one SendMessageBatch per 10 messages enqueued, and for each message
delivered one receive and one delete (Lambda's event source polls and deletes in batches, so
this is an upper bound), plus a ChangeMessageVisibility per retry.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter, defaultdict
from email import policy
from email.parser import BytesParser

import bench
from bench import results
from bench.meter import Estimate, Meter, attach_everywhere, estimate, schemas, snapshot

N = 10_000
PROGRESS_SECONDS = 10
PHASES = (
    ("import", "import"),
    ("count_import", "applier, imported"),
    ("send", "send"),
    ("count_send", "applier, sent"),
)
SENT = re.compile(r"\bsent (\d+)")
INVITED = re.compile(r"^(\d+) invited")


class Work:
    """The work handler, timed per phase and message kind; the queue's sends and retries counted."""

    def __init__(self, meter: Meter, total: int) -> None:
        self.meter = meter
        self.total = total
        self.seconds: Counter = Counter()  # phase -> handler seconds
        self.invocations: dict[str, Counter] = defaultdict(Counter)  # phase -> kind -> invocations
        self.kind_seconds: dict[str, Counter] = defaultdict(Counter)  # phase -> kind -> handler seconds
        self.fanouts: list[str] = []  # what each fan-out message did
        self.enqueued: Counter = Counter()  # phase -> messages sent to the queue
        self.batches: Counter = Counter()  # phase -> SendMessageBatch calls (10 messages each)
        self.retries: Counter = Counter()  # phase -> ChangeMessageVisibility (retry_later)
        self.failures: list[str] = []
        self.done = Counter()  # "sent", "invited"
        self.progress_at = time.monotonic()

    @property
    def phase(self) -> str | None:
        return self.meter.phase

    def instrument(self, queue) -> None:
        send, retry_later = queue.send, queue.retry_later

        def counted_send(messages):
            self.enqueued[self.phase] += len(messages)
            self.batches[self.phase] += math.ceil(len(messages) / 10)
            return send(messages)

        def counted_retry(receipt, delay_seconds):
            self.retries[self.phase] += 1
            return retry_later(receipt, delay_seconds)

        queue.send, queue.retry_later = counted_send, counted_retry

    def timed(self, kind: str, call, *args):
        """One handler invocation: `call(*args)`, timed and counted under `kind`."""
        started = time.perf_counter()
        try:
            return call(*args)
        except Exception as exc:
            self.failures.append(f"{self.phase} {kind}: {exc!r}"[:300])
            raise
        finally:
            elapsed = time.perf_counter() - started
            self.seconds[self.phase] += elapsed
            self.kind_seconds[self.phase][kind] += elapsed
            self.invocations[self.phase][kind] += 1

    def handler(self, event: dict, _context) -> list[str]:
        """What the queue's event source calls, as `bench.drain` does, with progress lines."""
        from chalicelib.runtime import work

        out = []
        for record in event["Records"]:
            kind = json.loads(record["body"]).get("kind", "?")
            summary = self.timed(kind, work.handle, record, time.time)
            out.append(summary)
            if kind == "fanout":
                self.fanouts.append(summary)
            for pattern, what in ((SENT, "sent"), (INVITED, "invited")):
                match = pattern.search(summary or "")
                if match:
                    self.done[what] += int(match.group(1))
        if time.monotonic() - self.progress_at >= PROGRESS_SECONDS:
            self.progress_at = time.monotonic()
            what = "sent" if self.phase == "send" else "invited"
            print(
                f"  {what} {self.done[what]:,} / {self.total:,} "
                f"({self.seconds[self.phase]:.0f}s of handler time in this phase)",
                flush=True,
            )
        return out


def outbox_recipients(outbox) -> tuple[int, set[str]]:
    """(files, distinct recipients) of the messages in the outbox."""
    files, recipients = 0, set()
    for path in outbox.glob("*.eml"):
        files += 1
        with path.open("rb") as handle:
            recipients.add(str(BytesParser(policy=policy.default).parse(handle, headersonly=True)["To"]))
    return files, recipients


def run(count: int = N) -> dict:
    from chalicelib.answers import counting
    from chalicelib.campaigns import campaigns
    from chalicelib.core.config import get_settings
    from chalicelib.queue import get_queue
    from chalicelib.sending import imports
    from chalicelib.store.counts import read
    from chalicelib.store.models import ImportJob

    started = time.perf_counter()
    wall: dict[str, float] = {}
    with bench.dynamodb_local() as endpoint, bench.closeloop_tables(endpoint):
        settings = get_settings()
        queue = get_queue()
        meter = Meter()
        attach_everywhere(meter)  # before the first product call: cold-start requests are counted
        schema = schemas()
        body = {"name": "Bench", "survey": bench.SURVEY, "segments": list(bench.SEGMENTS), "options": {}}
        campaign = campaigns.create_campaign(campaigns.parse_campaign(body), time.time())
        rows = list(enumerate(bench.recipients(count)))
        work = Work(meter, count)
        work.instrument(queue)
        snaps = [snapshot(schema)]
        setup_seconds = time.perf_counter() - started

        applied: dict[str, Counter] = defaultdict(Counter)
        replies: dict[str, object] = {}

        def start_import() -> None:
            replies["import"] = work.timed(
                "api", imports.start, campaign, rows, "recipients", time.time(), settings, queue
            )

        def start_sending() -> None:
            replies["send"] = work.timed("api", campaigns.start_sending, campaign.id, time.time(), None, queue)

        def apply_all() -> None:
            """The applier's passes until nothing is pending, as its once-a-minute runs would do them."""
            name = meter.phase
            while True:
                meter.phase = None  # the bench's own look at the index is not metered
                if not counting.pending_ids(1):
                    break
                meter.phase = name
                campaigns.forget(campaign.id)  # a once-a-minute applier finds its cache expired
                outcome = work.timed("applier", counting.apply_pending)
                applied[name].update(outcome)
                if not outcome["applied"] and not outcome["moved"]:
                    break
            meter.phase = name

        for name, action in (
            ("import", start_import),
            ("count_import", apply_all),
            ("send", start_sending),
            ("count_send", apply_all),
        ):
            print(f"{dict(PHASES)[name]} ...", flush=True)
            phase_started = time.perf_counter()
            work.progress_at = time.monotonic()
            meter.phase = name
            action()
            if not name.startswith("count_"):
                work.invocations[name]["drained"] = queue.drain(work.handler)
            meter.phase = None
            wall[name] = time.perf_counter() - phase_started
            snaps.append(snapshot(schema))
        campaigns.forget(campaign.id)
        meter.phase = "idle"
        idle = counting.apply_pending()
        meter.phase = None
        estimates = {
            phase: estimate(meter, phase, snaps[i], snaps[i + 1], schema) for i, (phase, _) in enumerate(PHASES)
        }
        report, state = replies["import"], replies["send"]

        files, recipients = outbox_recipients(settings.outbox_dir)
        expected = {row["email"] for _, row in rows}
        totals: Counter = Counter()
        for key, counts in read(campaign.id, "W#", consistent=True).items():
            if key.endswith("#_"):
                totals.update(counts)
        checks = {
            "outbox": files,
            "recipients": len(recipients),
            "missing": len(expected - recipients),
            "unexpected": len(recipients - expected),
            "import": f"{report['status']} -> {ImportJob.get(report['id'], consistent_read=True).status}",
            "campaign": f"{state} -> {campaigns.get_view(campaign.id).status}",
            "counters": {name: totals.get(name) for name in ("invited", "sent")},
            "still pending": len(counting.pending_ids(100_000)),
            "dead letters": len(list(queue.dead.glob("*.json"))) if queue.dead.is_dir() else 0,
            "left in queue": queue.depth(),
        }
        sizes = {table: max(est.largest[table] for est in estimates.values()) for table in schema}
    return {
        "count": count,
        "meter": meter,
        "work": work,
        "applied": {phase: dict(outcome) for phase, outcome in applied.items()},
        "idle": idle,
        "estimates": estimates,
        "checks": checks,
        "sizes": sizes,
        "wall": wall,
        "setup_seconds": setup_seconds,
        "seconds": time.perf_counter() - started,
    }


def totals(result: dict) -> dict[str, float]:
    """Whole-run figures per invitation (import, send, and the applier's two passes)."""
    meter: Meter = result["meter"]
    work: Work = result["work"]
    n = result["count"]
    phases = [phase for phase, _ in PHASES]
    api = sum(work.invocations[phase]["api"] for phase in phases)
    delivered = sum(k for phase in phases for kind, k in work.invocations[phase].items() if kind not in NOT_MESSAGES)
    sqs = sum(work.batches[p] for p in phases) + 2 * delivered + sum(work.retries[p] for p in phases)
    return {
        "reads": sum(meter.reads(p) for p in phases) / n,
        "writes": sum(meter.writes(p) for p in phases) / n,
        "others": sum(meter.others(p) for p in phases) / n,
        "rcu": sum(meter.rcu[p] for p in phases) / n,
        "wcu_local": sum(meter.wcu[p] for p in phases) / n,
        "wcu": sum(result["estimates"][p].total for p in phases) / n,
        "lambda": (delivered + api) / n,
        "api": api / n,
        "delivered": delivered / n,
        "sqs": sqs / n,
    }


COUNTING = ["count_import", "count_send"]
NOT_INVOKED = {"drained"}  # bookkeeping entries, not invocations
NOT_MESSAGES = NOT_INVOKED | {"api", "applier"}  # invocations that no queue message caused


def figures(result: dict) -> dict:
    total = totals(result)
    return {
        "dynamodb_read_requests": results.figure(total["reads"]),
        "dynamodb_write_requests": results.figure(total["writes"]),
        "read_units": results.figure(total["rcu"]),
        "write_units": results.figure(total["wcu"]),
        "lambda_invocations": results.figure(total["lambda"]),
        "sqs_requests": results.figure(total["sqs"]),
        "ses_messages": 1,
        "_units": results.WRITE_UNITS_NOTE + f"; measured for {result['count']:,} recipients in one campaign:"
        " import, send and the applier's requests and capacity per invitation (the applier counts each invitation"
        " twice: once imported, once sent); lambda_invocations counts the work"
        " queue's messages and the two API calls (import, send), not the applier's once-a-minute runs;"
        " sqs_requests: SendMessageBatch (10 messages each) + 1 receive + 1 delete per message delivered",
    }


def report(result: dict) -> None:
    meter: Meter = result["meter"]
    work: Work = result["work"]
    n, estimates, checks = result["count"], result["estimates"], result["checks"]
    labels = dict(PHASES)
    bench.title(
        f"invitations: {n:,} recipients imported, sent and counted (2 segments, work queue drained one message per"
        " invocation, no pacing, file mail backend, DynamoDB Local)"
    )
    print(f"{'handler time':<26}{'seconds':>8}{'inv./s':>8}{'invocations':>13}  by kind")
    rows = [(label, [phase]) for phase, label in PHASES]
    rows += [("counting (both passes)", COUNTING), ("import + send", ["import", "send"])]
    rows += [("total", [phase for phase, _ in PHASES])]
    for label, phases in rows:
        seconds = sum(work.seconds[p] for p in phases)
        kinds: Counter = Counter()
        kind_seconds: Counter = Counter()
        for p in phases:
            kinds.update({k: v for k, v in work.invocations[p].items() if k not in NOT_INVOKED})
            kind_seconds.update(work.kind_seconds[p])
        by_kind = ", ".join(f"{kind} {k:,} ({kind_seconds[kind]:.1f}s)" for kind, k in sorted(kinds.items()))
        print(f"{label:<26}{seconds:>8.1f}{n / seconds:>8.0f}{sum(kinds.values()):>13,}  {by_kind}")
    print(
        "(inv./s: invitations per second of handler time, one handler at a time; waiting on DynamoDB Local: "
        + ", ".join(f"{labels[p]} {meter.wire[p]:.1f}s" for p, _ in PHASES)
        + "; 'api' is the admin API call that starts a phase, 'applier' one pass of apply_pending)"
    )
    print(f"fan-out messages: {'; '.join(work.fanouts)}")

    print(
        f"\n{'DynamoDB per invitation':<26}{'requests':>9}{'reads':>8}{'writes':>8}{'other':>7}{'RCU':>8}{'WCU':>8}"
        f"{'WCU est':>9}  operations in all"
    )
    for label, phases in [*rows[:4], rows[4], rows[6]]:
        print(
            f"{label:<26}{sum(meter.requests(p) for p in phases) / n:>9.3f}"
            f"{sum(meter.reads(p) for p in phases) / n:>8.3f}{sum(meter.writes(p) for p in phases) / n:>8.3f}"
            f"{sum(meter.others(p) for p in phases) / n:>7.3f}{sum(meter.rcu[p] for p in phases) / n:>8.3f}"
            f"{sum(meter.wcu[p] for p in phases) / n:>8.3f}{sum(estimates[p].total for p in phases) / n:>9.3f}"
            + (f"  {meter.operations(phases[0])}" if len(phases) == 1 else "")
        )
    total = totals(result)
    print(
        f"(RCU/WCU: as DynamoDB Local reports them; WCU est: per item, see bench.meter. The applier's idle pass,"
        f" paid once a minute whatever the traffic, is left out: {meter.operations('idle')}, applied"
        f" {result['idle']['applied']})"
    )
    reput = estimates["send"].index["invitations/count-pending"]
    print(
        "the applier runs once a minute, so it counts an import before the campaign is sent (sending at SES's pace"
        " takes longer than a minute), and each invitation is applied twice: once invited, once sent. Were"
        f" the campaign sent within a minute of its import, the per-invitation figures would be less by"
        f" {meter.requests('count_import') / n:.3f} requests, {meter.rcu['count_import'] / n:.3f} RCU and"
        f" {(estimates['count_import'].total + reput) / n:.3f} WCU (the first applier pass, and the send putting"
        " each invitation back in the count-pending index)"
    )
    print("WCU estimate per invitation, by table and index:")
    for phase, label in PHASES:
        est: Estimate = estimates[phase]
        parts = ", ".join(f"{part} {value:.3g}" for part, value in est.scaled(n).items())
        extra = f"; {est.failed / n:.3g} of it for failed conditional writes" if est.failed else ""
        if est.tx_index:
            extra += f"; {(est.total + est.tx_index) / n:.3f} if index writes after a transaction cost double too"
        if est.cancelled:
            extra += f"; {est.cancelled} items in cancelled transactions, not priced"
        print(f"  {label}: {parts or 'none'}{extra}")
    print("  largest items written (bytes): " + ", ".join(f"{t} {size}" for t, size in result["sizes"].items() if size))

    phases = [phase for phase, _ in PHASES]
    print(
        f"\nSQS: {sum(work.enqueued[p] for p in phases):,} messages enqueued in "
        f"{sum(work.batches[p] for p in phases):,} SendMessageBatch calls, "
        f"{total['delivered'] * n:,.0f} delivered (1 receive + 1 delete each), "
        f"{sum(work.retries[p] for p in phases)} retries: {total['sqs']:.4f} SQS requests per invitation"
    )
    passes = ", ".join(
        f"{work.invocations[p]['applier']} after the {p.split('_')[1]} for "
        f"{result['applied'].get(p, {}).get('applied', 0):,} invitations"
        f" ({result['applied'].get(p, {}).get('moved', 0)} moved meanwhile)"
        for p in COUNTING
    )
    print(
        f"Lambda: {total['lambda'] * n:,.0f} invocations ({total['delivered'] * n:,.0f} work messages, "
        f"{total['api'] * n:.0f} API calls): {total['lambda']:.4f} per invitation. Applier passes: {passes};"
        " not counted as invocations: it runs once a minute regardless"
    )
    ok = checks["outbox"] == n and checks["recipients"] == n and not checks["missing"] and not checks["unexpected"]
    print(
        f"check: {checks['outbox']:,} emails in the outbox, {checks['recipients']:,} distinct recipients, "
        f"{checks['missing']} missing, {checks['unexpected']} unexpected (expected exactly {n:,})  "
        f"{'OK' if ok else 'WRONG'}"
    )
    counters_ok = checks["counters"] == {"invited": n, "sent": n}
    print(
        f"check: import {checks['import']}, campaign {checks['campaign']}, counters {checks['counters']}"
        f" {'OK' if counters_ok else 'WRONG'}, still pending {checks['still pending']}, dead letters"
        f" {checks['dead letters']}, left in queue {checks['left in queue']}, handler failures {len(work.failures)}"
    )
    for failure in work.failures[:5]:
        print(f"  failure: {failure}")
    phases_wall = ", ".join(f"{phase} {seconds:.1f}s" for phase, seconds in result["wall"].items())
    print(
        f"ran in {result['seconds']:.1f}s (setup {result['setup_seconds']:.1f}s; phases {phases_wall} of wall"
        " time; the rest is the bench's table snapshots and checks)"
    )


def main() -> None:
    result = run()
    report(result)
    path = results.merge("invitation", figures(result))
    print(f"wrote the invitation figures to {path.relative_to(bench.ROOT)}")


if __name__ == "__main__":
    main()
