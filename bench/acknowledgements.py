"""Items read and requests made per due acknowledgement, with many answers acknowledged long ago.

Scenario: a campaign whose 2,000 earlier answers were acknowledged weeks ago (they are no
longer in the sparse `ack-due` index) and 200 answers whose quiet period is over. One run of
the `acknowledge` job then reads the index (one Query), claims, sends and marks each due
answer. Printed per due acknowledgement: requests by operation, items read, RCU as DynamoDB
Local reports them and the per-item WCU estimate of real DynamoDB (bench/meter.py).
"""

from __future__ import annotations

import sys
import time

import bench
from bench import results
from bench.meter import Meter, attach_everywhere, estimate, schemas, snapshot

DUE = 200
ACKNOWLEDGED = 2000
TARGET = "one Query for the run, then per due answer: a claim, a suppression check and a mark; no Scan"


def seed_acknowledged(campaign_id: str, count: int) -> None:
    """Answers from a month ago, acknowledged long since: what the sparse index must not make a run read.

    tests/test_acknowledgements.py asserts on the same history this bench measures.
    """
    from chalicelib.store.models import Invitation

    answered = time.time() - 30 * 86400
    with Invitation.batch_write() as batch:
        for i in range(count):
            batch.save(
                Invitation(
                    f"old{i:06d}",
                    campaign_id=campaign_id,
                    email=f"old{i}@example.com",
                    created_at=answered,
                    expires_at=answered + 180 * 86400,
                    answered_at=answered,
                    updated_at=answered,
                    score=9,
                    category="promoter",
                    answers={"nps": 9},
                    responded_campaign=campaign_id,
                    ack_state="sent",
                    ack_sent_at=answered + 3600,
                    loop_status="acknowledged",
                )
            )


def run() -> dict:
    from chalicelib.answers import responses
    from chalicelib.answers.counting import apply_pending
    from chalicelib.campaigns.campaigns import get_view
    from chalicelib.core.config import get_settings
    from chalicelib.core.signing import read_invitation_token
    from chalicelib.loop import followups

    started = time.perf_counter()
    with bench.dynamodb_local() as endpoint, bench.closeloop_tables(endpoint):
        launched = bench.launch(DUE, sent_ago=5 * 3600)
        settings = get_settings()
        campaign = get_view(launched.campaign_id)
        answered = time.time() - 3 * 3600
        for i, token in enumerate(launched.tokens):
            ref = read_invitation_token(token, settings.signing_secrets, time.time())
            submission = responses.Submission({"nps": i % 11}, f"comment {i}", "submit")
            responses.record(ref, campaign, submission, answered, settings)
        apply_pending()
        seed_acknowledged(launched.campaign_id, ACKNOWLEDGED)
        meter = Meter()
        attach_everywhere(meter)
        schema = schemas()
        before = snapshot(schema, ["invitations"])
        meter.phase = "ack"
        ran = time.perf_counter()
        outcome = followups.acknowledge_due(time.time(), settings)
        seconds = time.perf_counter() - ran
        meter.phase = None
        after = snapshot(schema, ["invitations"])
        wcu = estimate(meter, "ack", before, after, schema)
        return {
            "outcome": dict(outcome),
            "ops": dict(meter.ops["ack"]),
            "reads": meter.reads("ack"),
            "writes": meter.writes("ack"),
            "rcu": meter.rcu["ack"],
            "wcu": wcu.total,
            "wcu_parts": wcu.scaled(DUE),
            "operations": meter.operations("ack"),
            "seconds": seconds,
            "total": time.perf_counter() - started,
        }


def report(result: dict) -> None:
    sent = result["outcome"].get("sent", 0)
    print(f"\n== acknowledgements: one run, {DUE} due among {ACKNOWLEDGED + DUE:,} answers (DynamoDB Local) ==")
    print(f"outcome: {result['outcome']}  in {result['seconds']:.2f}s of handler time")
    print(f"requests in all: {result['operations']}")
    per = max(sent, 1)
    print(
        f"per due acknowledgement: {result['reads'] / per:.3f} read requests, {result['writes'] / per:.3f} write "
        f"requests, {result['rcu'] / per:.3f} RCU, {result['wcu'] / per:.3f} WCU (estimate)"
    )
    print("  WCU estimate by table and index: " + ", ".join(f"{k} {v:.2f}" for k, v in result["wcu_parts"].items()))
    queries = result["ops"].get("Query", 0)
    scans = result["ops"].get("Scan", 0)
    items_read = sent + queries  # the Query returns the due keys; each suppression check reads one key
    print(
        f"items read: the Query returned {sent} keys of {ACKNOWLEDGED + DUE:,} answers; "
        f"{result['ops'].get('GetItem', 0)} GetItem (suppression checks and the campaign)"
    )
    met = queries == 1 and scans == 0 and sent == DUE
    print(f"target: {TARGET}  {'MET' if met else 'NOT MET'} ({queries} Query, {scans} Scan, ~{items_read} items read)")
    print(f"ran in {result['total']:.1f}s")
    results.merge(
        "acknowledgement",
        {
            "dynamodb_read_requests": results.figure(result["reads"] / per),
            "dynamodb_write_requests": results.figure(result["writes"] / per),
            "read_units": results.figure(result["rcu"] / per),
            "write_units": results.figure(result["wcu"] / per),
            "lambda_invocations": results.figure(1 / per),
            "ses_messages": 1,
            "_units": results.WRITE_UNITS_NOTE,
        },
    )


def main(argv: list[str] | None = None) -> None:
    del argv
    report(run())


if __name__ == "__main__":
    main(sys.argv[1:])
