"""`make run`'s runner: a long work queue (a large import's chunks) does not hold back the scheduled jobs."""

from __future__ import annotations

from chalicelib.queue.local import LocalWorkQueue
from chalicelib.runtime.jobs import Job
from localdev import run


def test_scheduled_jobs_run_between_rounds_of_a_long_work_queue(tmp_path):
    clock = [1000.0]
    queue = LocalWorkQueue(tmp_path / "queue", clock=lambda: clock[0])
    queue.send([{"kind": "import", "chunk": i} for i in range(80)])
    handled: list[int] = []

    def work_queue(event: dict, _context: object) -> None:
        handled.append(len(event["Records"]))
        clock[0] += 1.0  # a chunk of 500 recipients takes about a second locally

    dispatched: list[float] = []
    jobs = {"dispatch": Job("dispatch", 60, lambda _event, _context: dispatched.append(clock[0]))}
    next_run = {"dispatch": clock[0]}

    assert run.tick(queue, work_queue, jobs, next_run, clock=lambda: clock[0], budget=3.0) is True
    assert len(handled) == 3 and queue.depth() == 77
    assert dispatched == [1003.0] and next_run["dispatch"] == 1063.0

    while run.tick(queue, work_queue, jobs, next_run, clock=lambda: clock[0], budget=3.0):
        pass
    assert len(handled) == 80 and queue.depth() == 0
    assert dispatched == [1003.0, 1063.0]  # every minute while the import ran, not after it
