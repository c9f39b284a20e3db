"""DynamoDB requests and capacity per recorded answer, through the real code path, applier included.

A campaign with two segments and N invitations sent an hour ago, its sends already counted
(the applier has run). For each invitation: the page is shown and the form submitted
(`chalicelib.answers.survey_pages.show` and `.submit`, with the csrf of the rendered page and
`evidence=submit`); then the counting applier runs (`chalicelib.answers.counting.apply_pending`),
which moves the counters and sets the responses index entry and the acknowledgement
schedule; then a second pass changes every score, and the applier runs again. Every request
the botocore clients of the PynamoDB models make is counted, with the capacity DynamoDB
Local reports for it, and priced item by item as real DynamoDB would (bench.meter).

The applier runs once a minute whatever the traffic, so its requests and capacity are
shared by the answers it applies: they are printed per answer applied, and its fixed cost
(an idle pass) apart. Its campaign cache is dropped before each pass, as a once-a-minute
Lambda would find it expired.

Target: at most one read and one write per answer, first answer or edit, survey definition
cached across warm invocations (on the customer's request: page + submit).
"""

from __future__ import annotations

import time
from collections import Counter

import bench
from bench import results
from bench.meter import Estimate, Meter, attach_everywhere, estimate, item_size, schemas, snapshot

N = 200


def first_score(i: int) -> int:
    return i % 11


def edit_score(i: int) -> int:
    return (i + 5) % 11


ESTIMATED = ("first", "apply_first", "single", "apply_single", "edit", "apply_edit")  # in order, between snapshots
LABELS = {
    "view": "page views (GET)",
    "first": "first answers (POST)",
    "apply_first": "applier, first answers",
    "single": "a lone answer (POST)",
    "apply_single": "applier, the lone answer",
    "edit": "edits (POST)",
    "apply_edit": "applier, edits",
    "idle": "applier, idle pass",
}


def apply_all() -> dict[str, int]:
    """Run the applier until nothing is pending; returns the totals and the number of passes."""
    from chalicelib.answers import counting

    total = Counter()
    while True:
        outcome = counting.apply_pending()
        total["passes"] += 1
        total.update(outcome)
        if not outcome["applied"] and not outcome["moved"]:
            return dict(total)


def pending_count() -> int:
    from chalicelib.answers import counting

    return len(counting.pending_ids(100_000))


def index_count(index: str, key_name: str, key: str) -> int:
    """Entries under one key of an invitations index (a COUNT query, not metered)."""
    from chalicelib.store import raw_client, table_name
    from chalicelib.store.models import Invitation

    params = {
        "TableName": table_name(Invitation),
        "IndexName": index,
        "KeyConditionExpression": "#k = :v",
        "ExpressionAttributeNames": {"#k": key_name},
        "ExpressionAttributeValues": {":v": {"S": key}},
        "Select": "COUNT",
    }
    count = 0
    while True:
        page = raw_client().query(**params)
        count += page["Count"]
        if "LastEvaluatedKey" not in page:
            return count
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def run(count: int = N) -> dict:
    from chalicelib.answers import counting, survey_pages
    from chalicelib.campaigns import campaigns
    from chalicelib.store.counts import read

    started = time.perf_counter()
    with bench.dynamodb_local() as endpoint, bench.closeloop_tables(endpoint) as env:
        launched = bench.launch(count)
        setup_applied = apply_all()  # the imports and sends are counted before anyone answers
        meter = Meter()
        attach_everywhere(meter)
        schema = schemas()
        snaps = [snapshot(schema)]
        setup_seconds = time.perf_counter() - started
        campaigns.forget(launched.campaign_id)  # the first page view finds a cold cache
        headers = {"Origin": env["CLOSELOOP_BASE_URL"]}
        events = Counter()
        applied: dict[str, dict[str, int]] = {}
        bad: Counter = Counter()

        def answer(phase: str, indexes: range, score_of) -> None:
            for i in indexes:
                token = launched.tokens[i]
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
            snaps.append(snapshot(schema))

        def apply(phase: str) -> None:
            campaigns.forget(launched.campaign_id)  # a once-a-minute applier finds its cache expired
            meter.phase = phase
            applied[phase] = counting.apply_pending()
            meter.phase = None
            events[phase] = applied[phase]["applied"]
            snaps.append(snapshot(schema))

        # all but the last invitation answer within one minute, the last one alone in the next; then all edit
        answer("first", range(count - 1), first_score)
        apply("apply_first")
        answer("single", range(count - 1, count), first_score)
        apply("apply_single")
        answer("edit", range(count), edit_score)
        apply("apply_edit")
        campaigns.forget(launched.campaign_id)
        meter.phase = "idle"
        applied["idle"] = counting.apply_pending()
        meter.phase = None
        events["idle"] = 1
        seconds = time.perf_counter() - started - setup_seconds
        estimates = {phase: estimate(meter, phase, snaps[i], snaps[i + 1], schema) for i, phase in enumerate(ESTIMATED)}
        # consistency: apply anything left (nothing should be), then compare with the final answers
        leftover = apply_all()
        totals: Counter = Counter()
        for key, counts in read(launched.campaign_id, "W#", consistent=True).items():
            if key.endswith("#_"):
                totals.update(counts)
        final = snaps[-1]
        invitation_bytes = max(item_size(item) for item in final["invitations"].values())
        counter_bytes = max(item_size(item) for item in final["counters"].values())
        indexed = {
            "responses index": index_count("campaign-responses", "responded_campaign", launched.campaign_id),
            "acknowledgements due": index_count("ack-due", "ack_pk", counting.ACK_PK),
            "still pending": pending_count(),
        }
    return {
        "count": count,
        "meter": meter,
        "events": dict(events),
        "applied": applied,
        "setup_applied": setup_applied,
        "leftover": leftover,
        "estimates": estimates,
        "bad": bad,
        "totals": dict(totals),
        "indexed": indexed,
        "expected_sum": sum(edit_score(i) for i in range(count)),
        "invitation_bytes": invitation_bytes,
        "counter_bytes": counter_bytes,
        "setup_seconds": setup_seconds,
        "seconds": seconds,
    }


def per_answer(result: dict, phase: str) -> dict[str, dict[str, float]]:
    """{"request": ..., "applier": ..., "total": ...} per answer for the first answers or the edits."""
    meter: Meter = result["meter"]
    events, estimates = result["events"], result["estimates"]
    apply_phase = f"apply_{phase}"
    n, views, applied = events[phase], events["view"], max(1, events[apply_phase])
    request = {
        "reads": meter.reads("view") / views + meter.reads(phase) / n,
        "writes": meter.writes("view") / views + meter.writes(phase) / n,
        "others": meter.others("view") / views + meter.others(phase) / n,
        "rcu": meter.rcu["view"] / views + meter.rcu[phase] / n,
        "wcu_local": meter.wcu[phase] / n,
        "wcu": estimates[phase].total / n,
    }
    applier = {
        "reads": meter.reads(apply_phase) / applied,
        "writes": meter.writes(apply_phase) / applied,
        "others": meter.others(apply_phase) / applied,
        "rcu": meter.rcu[apply_phase] / applied,
        "wcu_local": meter.wcu[apply_phase] / applied,
        "wcu": estimates[apply_phase].total / applied,
    }
    return {"request": request, "applier": applier, "total": {k: request[k] + applier[k] for k in request}}


def figures(result: dict) -> dict:
    """The answer section of results.json: a first answer (page + submit) plus the applier's share."""
    total = per_answer(result, "first")["total"]
    lone = per_answer(result, "single")["total"]
    edit = per_answer(result, "edit")["request"]
    return {
        "dynamodb_read_requests": results.figure(total["reads"]),
        "dynamodb_write_requests": results.figure(total["writes"]),
        "read_units": results.figure(total["rcu"]),
        "write_units": results.figure(total["wcu"]),
        "lambda_invocations": 2,
        "api_requests": 2,
        "edit_dynamodb_read_requests": results.figure(edit["reads"]),
        "edit_dynamodb_write_requests": results.figure(edit["writes"]),
        "_units": results.WRITE_UNITS_NOTE + f"; a first answer (page + submit) plus the applier's requests and "
        f"capacity per answer, {result['events']['apply_first']} answers applied in one pass (its once-a-minute "
        f"invocations are not counted); an answer alone in its minute costs {lone['reads']:.3g} read requests, "
        f"{lone['writes']:.3g} write requests, {lone['rcu']:.3g} RCU and {lone['wcu']:.3g} WCU with the applier; "
        "edit_dynamodb_*_requests: an edit (page + submit) on the customer's request, without the applier",
    }


def report(result: dict) -> None:
    meter: Meter = result["meter"]
    count, events, estimates = result["count"], result["events"], result["estimates"]
    bench.title(f"answer cost: DynamoDB requests and capacity per answer (N={count}, 2 segments, DynamoDB Local)")
    print(
        f"{'per event':<26}{'events':>7}{'reads':>8}{'writes':>8}{'other':>7}{'RCU':>8}"
        f"{'WCU':>8}{'WCU est':>9}  operations in all"
    )
    for phase, label in LABELS.items():
        n = max(1, events.get(phase, 0))
        wcu_est = f"{estimates[phase].total / n:>9.3f}" if phase in estimates else f"{'':>9}"
        print(
            f"{label:<26}{events.get(phase, 0):>7}{meter.reads(phase) / n:>8.3f}{meter.writes(phase) / n:>8.3f}"
            f"{meter.others(phase) / n:>7.3f}{meter.rcu[phase] / n:>8.3f}{meter.wcu[phase] / n:>8.3f}{wcu_est}"
            f"  {meter.operations(phase)}"
        )
    print(
        "(events: page views, answers submitted, or invitations the applier applied; RCU/WCU: DynamoDB Local's"
        " ConsumedCapacity as reported; WCU est: the per-item estimate of real DynamoDB, see below)"
    )
    idle = result["applied"]["idle"]
    print(
        f"the idle pass applied {idle['applied']}: its cost ({meter.requests('idle')} requests, "
        f"{meter.rcu['idle']:g} RCU) is paid once a minute whatever the traffic, so it is not counted per answer"
    )

    print(f"\n{'per answer, page + submit':<48}{'reads':>8}{'writes':>8}{'other':>7}{'RCU':>8}{'WCU est':>9}")
    for phase, what in (("first", "first answer"), ("edit", "edit"), ("single", "lone answer")):
        rows = per_answer(result, phase)
        for part, label in (("request", "on the customer's request"), ("total", "including the applier, per answer")):
            if phase == "single" and part == "request":
                continue
            row = rows[part]
            name = f"{what}, {label}" if phase != "single" else "lone answer in its minute, with the applier"
            print(
                f"  {name:<46}{row['reads']:>8.3f}{row['writes']:>8.3f}{row['others']:>7.3f}"
                f"{row['rcu']:>8.3f}{row['wcu']:>9.3f}"
            )

    kb = -(-result["invitation_bytes"] // 1024)
    print(
        f"\nWCU estimate per answer, by table and index (an answered invitation is at most "
        f"{result['invitation_bytes']} bytes, {kb} KB; a counter item at most {result['counter_bytes']} bytes):"
    )
    for phase in ESTIMATED:
        n = max(1, events[phase])
        est: Estimate = estimates[phase]
        items = meter.items[phase]
        written = ", ".join(f"{table} {k / n:.3g}" for table, k in sorted(items.items()))
        parts = ", ".join(f"{part} {value:.3g}" for part, value in est.scaled(n).items())
        local = ", ".join(f"{part} {units / n:.3g}" for part, units in sorted(meter.wcu_parts[phase].items()))
        extra = f"; {est.failed / n:g} of it for a failed conditional write" if est.failed else ""
        if est.tx_index:
            extra += f"; {est.total / n + est.tx_index / n:.3f} if index writes after a transaction cost double too"
        print(f"  {LABELS[phase]}: items written {written or 'none'}")
        print(f"    estimate {est.total / n:.3f} WCU: {parts or 'none'}{extra}")
        print(f"    DynamoDB Local reports {meter.wcu[phase] / n:.3f} WCU: {local or 'none'}")
    print(
        "note: DynamoDB Local reports a transaction's capacity per table and per index, not per item: 2 WCU for"
        " the counters table whether the transaction writes 1 counter item or 6, 2 WCU for the invitations table"
        " whether it applies 1 invitation or 90. It reports nothing for a failed conditional write, which real"
        " DynamoDB charges (the existing item's size, at least 1 WCU). The estimate prices every item written"
        " (1 WCU per KB, 2 in a transaction), every index entry put, changed or deleted (1 WCU per KB; an index"
        " key change is 2 writes), and failed conditional writes. Index writes that follow a transaction are"
        " priced as standard writes (they propagate after the commit); DynamoDB Local doubles them, and the"
        " figure with them doubled is shown too. Single-item writes are where Local and the estimate can be"
        " compared: they agree but for the failed conditional write. Reads are as DynamoDB Local reports them."
    )

    campaign_reads = meter.ops["view"]["GetItem"]
    misses_allowed = 1 + int(result["seconds"] // 60)  # one reload per cache period is expected
    print(
        "\ntarget: at most one read and one write per answer or edit; survey definition cached across warm invocations"
    )
    for phase in ("first", "edit"):
        row = per_answer(result, phase)["request"]
        ok = row["reads"] <= 1 and row["writes"] <= 1 and not row["others"]
        label = f"{'first answers' if phase == 'first' else 'edits'} (page + submit)"
        print(
            f"  {label:<32} {row['reads']:.3f} reads, {row['writes']:.3f} writes, {row['others']:g} other"
            f"  {bench.verdict(ok)}"
        )
    ok = campaign_reads <= misses_allowed and not meter.others("view") and not meter.writes("view")
    print(
        f"  {'page views':<32} {campaign_reads} campaign read(s) in {events['view']} views over "
        f"{result['seconds']:.0f}s (the first one after a cold cache)  {bench.verdict(ok)}"
    )
    problems = sum(result["bad"].values())
    totals = result["totals"]
    consistent = totals.get("responses") == count and totals.get("q.nps.sum") == result["expected_sum"]
    indexed = result["indexed"]
    print(
        f"check: {problems} page/submit failures; applier moved {result['applied']['apply_first']['moved']} and "
        f"{result['applied']['apply_edit']['moved']} meanwhile; after apply_pending ({result['leftover']['applied']}"
        f" left to apply) the counters agree with the final answers: {'yes' if consistent else 'NO'} (responses "
        f"{totals.get('responses')}, q.nps.sum {totals.get('q.nps.sum')}; expected {count} and "
        f"{result['expected_sum']}); " + ", ".join(f"{name} {value}" for name, value in indexed.items())
    )
    follow_ups_ok = indexed["responses index"] == count and indexed["acknowledgements due"] == count
    if not follow_ups_ok or indexed["still pending"]:
        print(f"  PROBLEM: expected {count} in the responses index and due acknowledgements, none pending")
    for what, n in result["bad"].items():
        print(f"  failure: {what} x{n}")
    print(f"ran in {result['setup_seconds'] + result['seconds']:.1f}s (setup {result['setup_seconds']:.1f}s)")


def main() -> None:
    result = run()
    report(result)
    path = results.merge("answer", figures(result))
    print(f"wrote the answer figures to {path.relative_to(bench.ROOT)}")


if __name__ == "__main__":
    main()
