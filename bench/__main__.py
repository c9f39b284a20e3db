"""`python -m bench` (or `make bench`): every bench in turn, each printing its own titled block.

answer_cost, invitations, acknowledgements, answer_latency (the warm cycle), cold_start and import_time also
merge their figures into bench/results.json (bench.results).
"""

from __future__ import annotations

import time

from bench import acknowledgements, answer_cost, answer_latency, cold_start, digest, import_time, invitations, results


def main() -> None:
    started = time.perf_counter()
    answer_cost.main()
    invitations.main()
    acknowledgements.main()
    answer_latency.main([])
    cold_start.main([])
    import_time.main()
    digest.main()
    where = results.PATH.relative_to(results.PATH.parents[1])
    print(f"\nall benches ran in {time.perf_counter() - started:.1f}s; figures in {where}")


if __name__ == "__main__":
    main()
