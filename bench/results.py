"""bench/results.json: the measured figures per unit, for the cost script.

Each bench merges its own section into the file (the others are kept), so `python -m bench`
and `python -m bench.<name>` both leave it up to date. Shape:

    {"generated": ISO date,
     "answer": {dynamodb_read_requests, dynamodb_write_requests, read_units, write_units,
                lambda_invocations, api_requests, _units},
     "invitation": {dynamodb_read_requests, dynamodb_write_requests, read_units, write_units,
                    lambda_invocations, sqs_requests, ses_messages, _units},
     "acknowledgement": {the same keys, per due acknowledgement},
     "cold_import": {boto3_median_ms, boto3_p99_ms, app_median_ms, app_p99_ms, ratio_median,
                     ceiling, _units},
     "cold_start": {app_median_ms, app_p99_ms, floor_median_ms, floor_p99_ms, ratio_median,
                    ratio_p99, target, _units},
     "warm_cycle": {"first": {app_median_ms, app_p99_ms, floor_median_ms, floor_p99_ms, ratio_median,
                              ratio_p99, dynamodb_read_requests, dynamodb_write_requests},
                    "edit": {the same keys}, "targets": {ratio_median, ratio_p99}, _units}}

Keys starting with `_` are notes, not figures.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

PATH = Path(__file__).resolve().parent / "results.json"
WRITE_UNITS_NOTE = (
    "read_units: RCU as DynamoDB Local reports them; write_units: the bench's per-item estimate of real "
    "DynamoDB's WCU (table writes by item size, 2x in transactions, failed conditional writes, index writes), "
    "not DynamoDB Local's figure, which counts a transaction's items once per table and index, and leaves out"
    " failed conditional writes"
)
ORDER = ("generated", "answer", "invitation", "acknowledgement", "cold_import", "cold_start", "warm_cycle")


def figure(value: float) -> float:
    """Four significant digits: enough for a cost model, stable enough to diff."""
    return float(f"{value:.4g}")


def merge(section: str, figures: dict) -> Path:
    """Replace `section` in results.json, keep the rest, stamp the date; returns the path."""
    try:
        data = json.loads(PATH.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        data = {}
    data[section] = figures
    data["generated"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    ordered = {key: data[key] for key in ORDER if key in data}
    ordered.update({key: value for key, value in data.items() if key not in ordered})
    PATH.write_text(json.dumps(ordered, indent=2) + "\n")
    return PATH
