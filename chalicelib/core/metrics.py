"""Product metrics as CloudWatch Embedded Metric Format: one JSON line on stdout per event.

Lambda sends stdout to CloudWatch Logs, which turns these lines into metrics: no API call, no
latency and no PutMetricData charge on the request path. Locally they would only clutter the
console, so the local stage emits nothing.
"""

from __future__ import annotations

import json
import time

from chalicelib.core.config import Settings, get_settings

NAMESPACE = "Closeloop"
ANSWERS_RECORDED = "AnswersRecorded"
ACKNOWLEDGEMENTS_SENT = "AcknowledgementsSent"
SCANNER_CLICKS_FILTERED = "ScannerClicksFiltered"


def emit(name: str, value: int = 1, settings: Settings | None = None) -> None:
    """Count `value` of `name` for the current stage (dimension `Stage`)."""
    settings = settings or get_settings()
    if settings.is_local:
        return
    line = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {"Namespace": NAMESPACE, "Dimensions": [["Stage"]], "Metrics": [{"Name": name, "Unit": "Count"}]}
            ],
        },
        "Stage": settings.stage,
        name: value,
    }
    print(json.dumps(line, separators=(",", ":")), flush=True)
