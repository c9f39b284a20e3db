"""DynamoDB requests and consumed capacity per recorded answer, through the real code path.

A campaign with two segments and N invitations sent an hour ago. For each invitation: the
page is shown and the form submitted (`chalicelib.survey_pages.show` and `.submit`, with the
csrf of the rendered page and `evidence=submit`); then a second pass changes every score.
Every request the botocore clients of the PynamoDB models make is counted, with the
capacity DynamoDB Local reports for it (ReturnConsumedCapacity=TOTAL is added to each).

Target: at most one read and two writes per answer, survey definition cached across warm
invocations.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from typing import Any

import bench

N = 200
READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
PHASES = (("view", "page views (GET)"), ("first", "first answers"), ("edit", "edits"))


class Meter:
    """Tallies DynamoDB calls per phase: operation, items per table, capacity as reported, errors."""

    def __init__(self) -> None:
        self.phase: str | None = None
        self.ops: dict[str, Counter] = defaultdict(Counter)
        self.items: dict[str, Counter] = defaultdict(Counter)  # table -> items in successful calls
        self.cancelled_items: dict[str, Counter] = defaultdict(Counter)
        self.rcu: Counter = Counter()
        self.wcu: Counter = Counter()
        self.wcu_parts: dict[str, Counter] = defaultdict(Counter)  # "table" or "table/index" -> WCU reported
        self.errors: dict[str, Counter] = defaultdict(Counter)
        self.clients: list[Any] = []

    def attach(self, client: Any) -> None:
        if any(client is known for known in self.clients):
            return
        self.clients.append(client)
        client.meta.events.register("before-parameter-build.dynamodb.*", self._before)
        client.meta.events.register("after-call.dynamodb.*", self._after)

    def _before(self, params: dict, model: Any, context: dict, **_: Any) -> None:
        if "ReturnConsumedCapacity" in model.input_shape.members:
            params["ReturnConsumedCapacity"] = "INDEXES"  # TOTAL, broken down by table and index
        tables = [op["TableName"] for entry in params.get("TransactItems", []) for op in entry.values()]
        context["bench_tables"] = tables or ([params["TableName"]] if "TableName" in params else [])

    def _after(self, parsed: dict, model: Any, context: dict, **_: Any) -> None:
        if self.phase is None:
            return
        phase, op = self.phase, model.name
        self.ops[phase][op] += 1
        error = parsed.get("Error", {}).get("Code")
        items = self.cancelled_items if error else self.items
        for table in context.get("bench_tables", []):
            items[phase][short(table)] += 1
        if error:
            self.errors[phase][f"{op}: {error}"] += 1
        used = parsed.get("ConsumedCapacity") or []
        for entry in [used] if isinstance(used, dict) else used:
            units = float(entry.get("CapacityUnits", 0))
            if op in READS:
                self.rcu[phase] += units
                continue
            self.wcu[phase] += units
            table = short(entry["TableName"])
            self.wcu_parts[phase][table] += float(entry.get("Table", {}).get("CapacityUnits", units))
            for index, used_by in (entry.get("GlobalSecondaryIndexes") or {}).items():
                self.wcu_parts[phase][f"{table}/{index}"] += float(used_by.get("CapacityUnits", 0))

    def reads(self, phase: str) -> int:
        return sum(n for op, n in self.ops[phase].items() if op in READS)

    def writes(self, phase: str) -> int:
        return sum(n for op, n in self.ops[phase].items() if op in WRITES)

    def others(self, phase: str) -> int:
        return sum(n for op, n in self.ops[phase].items() if op not in READS | WRITES)


def short(table: str) -> str:
    """The table name without the bench's prefix."""
    return table.split("-", 1)[-1]


def item_size(item: dict) -> int:
    """DynamoDB's item size: attribute names plus values (numbers about 1 byte per 2 digits + 1)."""

    def value_size(value: dict) -> int:
        ((kind, raw),) = value.items()
        if kind == "S":
            return len(raw.encode())
        if kind == "N":
            return len(raw.lstrip("-").replace(".", "").strip("0") or "0") // 2 + 2
        if kind in ("BOOL", "NULL"):
            return 1
        if kind == "M":
            return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in raw.items())
        if kind == "L":
            return 3 + sum(value_size(v) + 1 for v in raw)
        return sum(len(str(v)) for v in raw)

    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def attach_everywhere(meter: Meter) -> None:
    """Each PynamoDB model has its own connection and botocore client: meter all of them."""
    from chalicelib.store import bind, raw_client
    from chalicelib.store.models import MODELS

    bind()
    meter.attach(raw_client())
    for model in MODELS:
        meter.attach(model._get_connection().connection.client)


def run(count: int = N) -> dict:
    from chalicelib import campaigns, survey_pages
    from chalicelib.store import raw_client
    from chalicelib.store.counts import read
    from chalicelib.store.models import Invitation

    started = time.perf_counter()
    with bench.dynamodb_local() as endpoint, bench.closeloop_tables(endpoint) as env:
        launched = bench.launch(count)
        setup_seconds = time.perf_counter() - started
        meter = Meter()
        attach_everywhere(meter)
        campaigns.forget(launched.campaign_id)  # the first page view finds a cold cache
        headers = {"Origin": env["CLOSELOOP_BASE_URL"]}
        events = {"view": 0, "first": 0, "edit": 0}
        bad: Counter = Counter()
        for phase, score_of in (("first", lambda i: i % 11), ("edit", lambda i: (i + 5) % 11)):
            for i, token in enumerate(launched.tokens):
                meter.phase = "view"
                page = survey_pages.show(token, {"a": str(score_of(i))}, time.time())
                events["view"] += 1
                meter.phase = phase
                form = {"q_nps": [str(score_of(i))], "csrf": [bench.csrf_of(page.body)], "evidence": ["submit"]}
                reply = survey_pages.submit(token, form, headers, time.time())
                meter.phase = None
                events[phase] += 1
                if page.status != 200 or reply.status != 200 or "Thank you!" not in reply.body:
                    bad[f"{phase}: GET {page.status}, POST {reply.status}"] += 1
        seconds = time.perf_counter() - started - setup_seconds
        totals: Counter = Counter()
        for key, counts in read(launched.campaign_id, "W#", consistent=True).items():
            if key.endswith("#_"):
                totals.update(counts)
        sizes = [
            item_size(
                raw_client().get_item(TableName=Invitation.Meta.table_name, Key={"id": {"S": t.split(".")[1]}})["Item"]
            )
            for t in launched.tokens[:20]
        ]
    return {
        "count": count,
        "meter": meter,
        "events": events,
        "bad": bad,
        "totals": dict(totals),
        "expected_sum": sum((i + 5) % 11 for i in range(count)),
        "invitation_bytes": max(sizes),
        "setup_seconds": setup_seconds,
        "seconds": seconds,
    }


def report(result: dict) -> None:
    meter: Meter = result["meter"]
    count, events = result["count"], result["events"]
    bench.title(f"answer cost: DynamoDB requests and capacity per answer (N={count}, 2 segments, DynamoDB Local)")
    print(f"{'per event':<18}{'events':>7}{'reads':>8}{'writes':>8}{'other':>7}{'RCU':>8}{'WCU':>8}  operations in all")
    for phase, label in PHASES:
        n = events[phase]
        ops = ", ".join(f"{op} x{k}" for op, k in sorted(meter.ops[phase].items())) or "none"
        errors = ", ".join(f"{k} {name.split(': ')[1]}" for name, k in sorted(meter.errors[phase].items()))
        print(
            f"{label:<18}{n:>7}{meter.reads(phase) / n:>8.3f}{meter.writes(phase) / n:>8.3f}"
            f"{meter.others(phase) / n:>7.3f}{meter.rcu[phase] / n:>8.3f}{meter.wcu[phase] / n:>8.3f}  {ops}"
            + (f" ({errors})" if errors else "")
        )
    print("(RCU/WCU columns: DynamoDB Local's ConsumedCapacity, as it reports it)")

    kb = -(-result["invitation_bytes"] // 1024)
    print(f"per answer, written items and WCU (an answered invitation is about {result['invitation_bytes']} bytes):")
    for phase in ("first", "edit"):
        n = events[phase]
        items = meter.items[phase]
        written = ", ".join(f"{table} {k / n:g}" for table, k in sorted(items.items()))
        cancelled = sum(meter.cancelled_items[phase].values()) / n
        local = ", ".join(f"{part} {units / n:g}" for part, units in sorted(meter.wcu_parts[phase].items()))
        table_items = sum(items.values()) / n
        real = 2 * (items["invitations"] / n * kb + (table_items - items["invitations"] / n))
        gsi = sum(u for part, u in meter.wcu_parts[phase].items() if "/" in part) / n
        extra = f" (+{cancelled:g} in the cancelled attempt)" if cancelled else ""
        print(f"  {dict(PHASES)[phase]}: items written: {written}{extra}")
        print(f"    DynamoDB Local reports WCU: {local}  (total {meter.wcu[phase] / n:g})")
        print(
            f"    real DynamoDB estimate: {table_items:g} items x 2 WCU (transactional, up to {kb} KB each)"
            f" = {real:g} WCU"
            f" + index writes (Local reports {gsi:g}) = about {real + gsi:g} WCU"
        )

    campaign_reads = meter.ops["view"]["GetItem"]
    misses_allowed = 1 + int(result["seconds"] // 60)  # one reload per cache period is expected
    print("target: at most one read and two writes per answer; survey definition cached across warm invocations")
    for phase in ("first", "edit"):
        reads = meter.reads("view") / events["view"] + meter.reads(phase) / events[phase]
        writes = meter.writes(phase) / events[phase]
        others = meter.others(phase) / events[phase]
        ok = reads <= 1 and writes <= 2 and not others
        label = f"{dict(PHASES)[phase]} (page + submit)"
        print(f"  {label:<32} {reads:.3f} reads, {writes:.3f} writes, {others:g} other  {bench.verdict(ok)}")
    ok = campaign_reads <= misses_allowed and not meter.others("view") and not meter.writes("view")
    print(
        f"  {'page views':<32} {campaign_reads} campaign read(s) in {events['view']} views over "
        f"{result['seconds']:.0f}s (the first one after a cold cache)  {bench.verdict(ok)}"
    )
    print(
        "note: DynamoDB Local reports 2 WCU per transactional item, but per table only once: a transaction"
        " writing 3 counter items reports 2 WCU for the counters table, the same as 1 item. It reports no"
        " capacity for a cancelled transaction. The estimate above counts every item."
    )
    problems = sum(result["bad"].values())
    consistent = (
        result["totals"].get("responses") == count and result["totals"].get("q.nps.sum") == result["expected_sum"]
    )
    print(
        f"check: {problems} page/submit failures; counters agree with the final answers: "
        f"{'yes' if consistent else 'NO'} (responses {result['totals'].get('responses')}, "
        f"q.nps.sum {result['totals'].get('q.nps.sum')}; expected {count} and {result['expected_sum']})"
    )
    for what, n in result["bad"].items():
        print(f"  failure: {what} x{n}")
    print(f"ran in {result['setup_seconds'] + result['seconds']:.1f}s (setup {result['setup_seconds']:.1f}s)")


def main() -> None:
    report(run())


if __name__ == "__main__":
    main()
