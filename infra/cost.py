"""What a Closeloop stage costs a month: idle, and at 10,000 and 1,000,000 responses a month.

`make cost` (python -m infra.cost) writes docs/cost.md from three sources and nothing else:
bench/results.json (DynamoDB requests and capacity units, Lambda invocations, API, SQS and SES
requests per answer, per invitation and per acknowledgement, measured by bench/), the app
itself (its functions, schedules, queue consumers and Lambda memory: what runs while nobody
answers), and the published on-demand prices below. The assumptions it needs beyond those
are constants here, named and printed in the document. A test regenerates the document and
compares, so it cannot drift from the code.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from chalice.app import SQSEventConfig

from chalicelib.core import metrics
from chalicelib.core.secrets import CACHE_SECONDS, PARAMETERS
from chalicelib.runtime.jobs import scheduled_jobs
from infra.permissions import grants_for
from infra.stages import Stage, load_stages

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
DOCUMENT = ROOT / "docs" / "cost.md"

PRICES_DATE = "2026-11-24"
REGION = "us-east-1"
SECONDS_PER_MONTH = 730 * 3600  # AWS bills a month as 730 hours
GB = 2**30


@dataclass(frozen=True)
class Price:
    label: str
    unit: str
    dollars: float  # for `per` units
    per: float = 1
    free: float = 0  # always-free allowance per account and month, in units (not the 12-month trial)

    def cost(self, quantity: float, with_free_tier: bool) -> float:
        billable = max(0.0, quantity - self.free) if with_free_tier else quantity
        return billable / self.per * self.dollars


# us-east-1 on-demand list prices, from the AWS pricing pages on PRICES_DATE.
PRICES: dict[str, Price] = {
    "dynamodb_write_units": Price("DynamoDB writes", "$0.625 per million write request units", 0.625, 1e6),
    "dynamodb_read_units": Price("DynamoDB reads", "$0.125 per million read request units", 0.125, 1e6),
    "dynamodb_storage_gb": Price("DynamoDB storage", "$0.25 per GB-month (25 GB free)", 0.25, 1, 25),
    "dynamodb_pitr_gb": Price("DynamoDB point-in-time recovery", "$0.20 per GB-month", 0.20),
    "lambda_requests": Price("Lambda requests", "$0.20 per million (1 million free)", 0.20, 1e6, 1e6),
    "lambda_gb_seconds": Price(
        "Lambda compute (x86)", "$0.0000166667 per GB-second (400,000 free)", 0.0000166667, 1, 4e5
    ),
    "api_requests": Price("API Gateway REST API", "$3.50 per million requests", 3.50, 1e6),
    "sqs_requests": Price("SQS requests", "$0.40 per million (1 million free)", 0.40, 1e6, 1e6),
    "sns_publishes": Price(
        "SNS publishes (delivery to Lambda is free)", "$0.50 per million (1 million free)", 0.50, 1e6, 1e6
    ),
    "ses_messages": Price("SES outbound email", "$0.10 per 1,000 messages", 0.10, 1000),
    "alarms": Price("CloudWatch alarms", "$0.10 per standard alarm metric-month (10 free)", 0.10, 1, 10),
    "dashboards": Price("CloudWatch dashboards", "$3.00 per dashboard-month (3 free)", 3.00, 1, 3),
    "custom_metrics": Price("CloudWatch custom metrics (EMF)", "$0.30 per metric-month (10 free)", 0.30, 1, 10),
    "logs_ingested_gb": Price("CloudWatch Logs ingestion", "$0.50 per GB (5 GB free)", 0.50, 1, 5),
    "logs_stored_gb": Price("CloudWatch Logs storage", "$0.03 per GB-month", 0.03),
    "kms_requests": Price("KMS requests (SecureString decryption)", "$0.03 per 10,000 (20,000 free)", 0.03, 1e4, 2e4),
    "ssm_parameters": Price("SSM Parameter Store (standard)", "free: parameters and standard-throughput calls", 0.0),
    "data_transfer_gb": Price("Data transfer out (answer pages)", "$0.09 per GB (100 GB free)", 0.09, 1, 100),
}

# What the bench does not measure, stated rather than hidden.
INVITATIONS_PER_RESPONSE = 5  # a 20% response rate
ACKNOWLEDGEMENTS_PER_RESPONSE = 1  # every answer is acknowledged once
SES_EVENTS_PER_INVITATION = 0.02  # bounces and complaints, each one SNS publish (and a Lambda run)
LAMBDA_MS = {"answer": 150, "invitation": 300, "acknowledgement": 300, "ses_event": 100, "idle_run": 60}
IDLE_READ_UNITS = 0.5  # an idle scheduled run is one Query on an empty sparse index, eventually consistent
LOG_BYTES_PER_INVOCATION = 600  # Lambda's START, END and REPORT lines and one metric line
INVITATION_BYTES = 1500  # the item and its keys-only index entries
RESPONSE_BYTES = 2500  # the answered item grows, and is copied into the campaign-responses index
RETAINED_MONTHS = 12  # storage is priced after a year at the same volume
PAGE_BYTES = 12_000  # an answer page or its reply, compressed HTML
SQS_IDLE_REQUESTS = 5 * 3 * 60 * 730  # per queue consumer: 5 pollers, each a 20-second long poll


@dataclass(frozen=True)
class AppFacts:
    """What the Chalice app deploys, read from the app itself."""

    functions: tuple[str, ...]
    schedules: Mapping[str, int]  # function -> seconds between runs
    queue_consumers: tuple[str, ...]
    memory_gb: float


def app_facts() -> AppFacts:
    app = importlib.import_module("app").app
    names = (["api_handler"] if app.routes else []) + [s.name for s in app.event_sources]
    names += [f.name for f in app.pure_lambda_functions]
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return AppFacts(
        functions=tuple(names),
        schedules={name: job.every_seconds for name, job in scheduled_jobs().items()},
        queue_consumers=tuple(s.name for s in app.event_sources if isinstance(s, SQSEventConfig)),
        memory_gb=config.get("lambda_memory_size", 128) / 1024,
    )


def alarm_count(facts: AppFacts) -> int:
    """As infra/stack.py makes them: one per function for errors, plus dead letters, throttles, bounces, complaints."""
    return len(facts.functions) + 4


def _idle(stage: Stage, facts: AppFacts) -> dict[str, float]:
    usage = {"alarms": alarm_count(facts), "dashboards": 1 if stage.dashboard else 0}
    runs = {name: SECONDS_PER_MONTH / every for name, every in facts.schedules.items()}
    total = sum(runs.values())
    usage["lambda_requests"] = total
    usage["lambda_gb_seconds"] = total * LAMBDA_MS["idle_run"] / 1000 * facts.memory_gb
    usage["dynamodb_read_units"] = total * IDLE_READ_UNITS
    usage["logs_ingested_gb"] = total * LOG_BYTES_PER_INVOCATION / GB
    # A warm function reads its secrets at most once per cache period, one decryption per parameter.
    usage["kms_requests"] = sum(
        SECONDS_PER_MONTH / max(every, CACHE_SECONDS) * len(PARAMETERS)
        for name, every in facts.schedules.items()
        if grants_for(name).read_secrets
    )
    usage["sqs_requests"] = SQS_IDLE_REQUESTS * len(facts.queue_consumers)
    return usage


def _traffic(responses: int, figures: Mapping[str, Mapping[str, float]], facts: AppFacts) -> dict[str, float]:
    counts = {
        "answer": responses,
        "invitation": responses * INVITATIONS_PER_RESPONSE,
        "acknowledgement": responses * ACKNOWLEDGEMENTS_PER_RESPONSE,
    }
    usage: dict[str, float] = {}

    def add(key: str, value: float) -> None:
        usage[key] = usage.get(key, 0.0) + value

    for section, count in counts.items():
        measured = figures[section]
        invocations = count * measured["lambda_invocations"]
        add("dynamodb_read_units", count * measured["read_units"])
        add("dynamodb_write_units", count * measured["write_units"])
        add("lambda_requests", invocations)
        add("lambda_gb_seconds", invocations * LAMBDA_MS[section] / 1000 * facts.memory_gb)
        add("api_requests", count * measured.get("api_requests", 0))
        add("sqs_requests", count * measured.get("sqs_requests", 0))
        add("ses_messages", count * measured.get("ses_messages", 0))
    events = counts["invitation"] * SES_EVENTS_PER_INVITATION
    add("sns_publishes", events)
    if "ses_events" in facts.functions:
        add("lambda_requests", events)
        add("lambda_gb_seconds", events * LAMBDA_MS["ses_event"] / 1000 * facts.memory_gb)
    add("logs_ingested_gb", usage["lambda_requests"] * LOG_BYTES_PER_INVOCATION / GB)
    stored = RETAINED_MONTHS * (counts["invitation"] * INVITATION_BYTES + responses * RESPONSE_BYTES) / GB
    add("dynamodb_storage_gb", stored)
    add("dynamodb_pitr_gb", stored)
    add("data_transfer_gb", usage["api_requests"] * PAGE_BYTES / GB)
    add("custom_metrics", 3 if responses else 0)
    # The API function stays warm under traffic and refreshes its secrets once per cache period.
    add("kms_requests", min(usage["api_requests"], SECONDS_PER_MONTH / CACHE_SECONDS) * len(PARAMETERS))
    return usage


def usage_of(stages: Sequence[Stage], responses: int, figures: Mapping, facts: AppFacts) -> dict[str, float]:
    """One account's monthly usage: every stage idles, the first one also serves `responses`."""
    usage: dict[str, float] = dict.fromkeys(PRICES, 0.0)
    for stage in stages:
        for key, value in _idle(stage, facts).items():
            usage[key] += value
    for key, value in _traffic(responses, figures, facts).items():
        usage[key] += value
    first = stages[0]
    usage["logs_stored_gb"] = usage["logs_ingested_gb"] * first.log_retention_days / 30
    return usage


def bill(usage: Mapping[str, float], with_free_tier: bool) -> dict[str, float]:
    return {key: PRICES[key].cost(quantity, with_free_tier) for key, quantity in usage.items()}


@dataclass(frozen=True)
class Scenario:
    title: str
    stages: tuple[str, ...]
    responses: int


SCENARIOS = (
    Scenario("Idle: prod, nobody answering", ("prod",), 0),
    Scenario("Idle: prod and dev in one account", ("prod", "dev"), 0),
    Scenario("10,000 responses a month (prod)", ("prod",), 10_000),
    Scenario("1,000,000 responses a month (prod)", ("prod",), 1_000_000),
)


def totals(results: Mapping, stages: Mapping[str, Stage], facts: AppFacts) -> dict[str, tuple[float, float]]:
    """Scenario title -> (list price, after always-free allowances), in dollars a month."""
    out = {}
    for scenario in SCENARIOS:
        usage = usage_of([stages[s] for s in scenario.stages], scenario.responses, results, facts)
        out[scenario.title] = (sum(bill(usage, False).values()), sum(bill(usage, True).values()))
    return out


def _money(value: float) -> str:
    if 0 < value < 0.005:
        return "<$0.01"
    return f"${value:,.2f}"


def _quantity(key: str, value: float) -> str:
    if key.endswith("_gb") or key == "lambda_gb_seconds":
        return f"{value:,.3f}" if value < 10 else f"{value:,.0f}"
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:,.1f}"


def render(results: Mapping, stages: Mapping[str, Stage], facts: AppFacts) -> str:
    placeholder = bool(results.get("placeholder"))
    summary = totals(results, stages, facts)
    lines = [
        "# What Closeloop costs to run",
        "",
        "Generated by `infra/cost.py` (`make cost`): do not edit by hand. It multiplies the requests that",
        "`bench/` measures per answer, per invitation and per acknowledgement (`bench/results.json`) by the",
        f"published on-demand prices of {REGION} on {PRICES_DATE}, adds what the deployed stack costs while",
        "nobody answers (its schedules, queue pollers, alarms and dashboard, read from the app and the",
        "stack's rules), and applies only the **always-free** allowances every AWS account keeps (not the",
        "12-month trial). A test fails when this file differs from what the script makes of the current",
        "app, bench figures and prices.",
        "",
    ]
    if placeholder:
        lines += [
            "> **The bench figures below are placeholders**, conservative estimates read off the code,",
            "> not measurements: `make bench` replaces `bench/results.json`, then `make cost` this file.",
            "",
        ]
    lines += [
        "## Monthly bill",
        "",
        "| Scenario | List price | After always-free allowances |",
        "|---|---:|---:|",
        *(f"| {title} | {_money(full)} | **{_money(free)}** |" for title, (full, free) in summary.items()),
        "",
        "Idle, a stage costs its CloudWatch alarms and dashboard and the runs of its scheduled",
        "functions; the always-free allowances cover nearly all of it in an account of its own. Without them",
        f"(an account whose allowances other workloads use), alarms cost $0.10 each ({alarm_count(facts)} per",
        "stage: errors of each function, dead letters, throttles, bounce rate, complaint rate) and the",
        'dashboard $3.00: set `"dashboard": false` in `infra/stages.json` to drop it (dev has none). A',
        "second stage in the same account adds its alarms to the 10 free ones.",
        "",
        "## What it is computed from",
        "",
        f"The app deploys {len(facts.functions)} functions ({', '.join(f'`{f}`' for f in facts.functions)}) with"
        f" {facts.memory_gb * 1024:.0f} MB each;",
        "scheduled: "
        + (", ".join(f"`{name}` every {every // 60} min" for name, every in facts.schedules.items()) or "none")
        + "; queue consumers: "
        + (", ".join(f"`{name}`" for name in facts.queue_consumers) or "none")
        + ".",
        "",
        f"Bench figures (`bench/results.json`{', placeholders' if placeholder else ''}):",
        "",
        "| Per | DynamoDB reads (requests / units) | DynamoDB writes (requests / units) | Lambda runs | API requests "
        "| SQS requests | SES messages |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for section in ("answer", "invitation", "acknowledgement"):
        f = results[section]
        lines.append(
            f"| {section} | {f['dynamodb_read_requests']:g} / {f['read_units']:g} "
            f"| {f['dynamodb_write_requests']:g} / {f['write_units']:g} | {f['lambda_invocations']:g} "
            f"| {f.get('api_requests', 0):g} | {f.get('sqs_requests', 0):g} | {f.get('ses_messages', 0):g} |"
        )
    lines += [
        "",
        "Assumptions the bench does not measure:",
        "",
        f"- {INVITATIONS_PER_RESPONSE} invitations per response (a {100 // INVITATIONS_PER_RESPONSE}% response"
        f" rate) and {ACKNOWLEDGEMENTS_PER_RESPONSE} acknowledgement per response;",
        f"- {SES_EVENTS_PER_INVITATION:.0%} of invitations bounce or draw a complaint (one SNS publish each);",
        "- Lambda duration per run: "
        + ", ".join(f"{name.replace('_', ' ')} {ms} ms" for name, ms in LAMBDA_MS.items())
        + f"; {LOG_BYTES_PER_INVOCATION} bytes of logs per run;",
        f"- an idle scheduled run is one Query on an empty sparse index ({IDLE_READ_UNITS} read unit);",
        f"- secrets are read from SSM at most every {CACHE_SECONDS // 60} minutes per warm function, one KMS"
        f" decryption per parameter ({len(PARAMETERS)});",
        f"- Lambda polls an SQS event source with 5 long polls of 20 s: {SQS_IDLE_REQUESTS:,} requests a month"
        " per consumer, idle or not;",
        f"- storage after {RETAINED_MONTHS} months at the same volume: {INVITATION_BYTES:,} bytes per invitation,"
        f" {RESPONSE_BYTES:,} per response (indexes included), the same again for point-in-time recovery;",
        f"- {PAGE_BYTES:,} bytes sent per API request (data transfer out);",
        "- the custom metrics ("
        + ", ".join(
            f"`{m}`" for m in (metrics.ANSWERS_RECORDED, metrics.ACKNOWLEDGEMENTS_SENT, metrics.SCANNER_CLICKS_FILTERED)
        )
        + ") are emitted all month under traffic, never idle.",
        "",
        "Not included: DNS for the sending domain (a Route 53 hosted zone is $0.50 a month, if you use",
        "one), the CDK bootstrap bucket (a few MB of deployment packages), taxes, support plans.",
        "",
        "## Prices",
        "",
        f"On-demand list prices, {REGION}, as published on {PRICES_DATE}:",
        "",
        "| Service | Price |",
        "|---|---|",
        *(f"| {price.label} | {price.unit} |" for price in PRICES.values()),
        "",
        "API Gateway's and SES's free offers last only 12 months from sign-up, so they are not applied.",
        "",
        "## Line items",
    ]
    for scenario in SCENARIOS:
        usage = usage_of([stages[s] for s in scenario.stages], scenario.responses, results, facts)
        full, free = bill(usage, False), bill(usage, True)
        lines += [
            "",
            f"### {scenario.title}",
            "",
            "| Service | Usage | List price | After free allowances |",
            "|---|---:|---:|---:|",
        ]
        for key, quantity in usage.items():
            if quantity:
                lines.append(
                    f"| {PRICES[key].label} | {_quantity(key, quantity)} | {_money(full[key])} | {_money(free[key])} |"
                )
        lines.append(f"| **Total** | | **{_money(sum(full.values()))}** | **{_money(sum(free.values()))}** |")
    return "\n".join(lines) + "\n"


def load_results(path: Path = RESULTS) -> dict:
    return json.loads(path.read_text())


def main() -> None:
    facts = app_facts()
    document = render(load_results(), load_stages(), facts)
    DOCUMENT.write_text(document)
    for title, (full, free) in totals(load_results(), load_stages(), facts).items():
        print(f"{title}: {_money(full)} list, {_money(free)} after always-free allowances")
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
