"""The app's scheduled functions, found by name, so they can be run once or on a local clock.

Chalice runs `@app.schedule` functions only on AWS (EventBridge); `run-job` and the local
runner call the very same handlers with an EventBridge-shaped event.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from chalice.app import Rate, ScheduledEventConfig

SECONDS = {Rate.MINUTES: 60, Rate.HOURS: 3600, Rate.DAYS: 86400}


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: int
    handler: Any

    def run(self) -> Any:
        event = {
            "version": "0",
            "id": f"local-{time.time_ns()}",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "000000000000",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": "local",
            "resources": [],
            "detail": {},
        }
        return self.handler(event, None)


def scheduled_jobs(app_module: ModuleType | None = None) -> dict[str, Job]:
    module = app_module or importlib.import_module("app")
    jobs = {}
    for source in module.app.event_sources:
        if not isinstance(source, ScheduledEventConfig):
            continue
        expression = source.schedule_expression
        if not isinstance(expression, Rate):
            raise TypeError(f"{source.name}: the local scheduler understands Rate(...) schedules only")
        handler = getattr(module, source.handler_string.rpartition(".")[2])
        jobs[source.name] = Job(source.name, expression.value * SECONDS[expression.unit], handler)
    return jobs


def find_job(name: str, app_module: ModuleType | None = None) -> Job:
    jobs = scheduled_jobs(app_module)
    job = jobs.get(name) or jobs.get(name.replace("-", "_"))
    if job is None:
        raise KeyError(f"no scheduled function {name!r}; there are: {', '.join(sorted(jobs)) or 'none'}")
    return job
