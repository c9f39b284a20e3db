"""`python -m bench` (or `make bench`): every bench in turn, each printing its own titled block."""

from __future__ import annotations

import time

from bench import answer_cost, answer_latency, digest, import_time


def main() -> None:
    started = time.perf_counter()
    answer_cost.main()
    answer_latency.main([])
    import_time.main()
    digest.main()
    print(f"\nall benches ran in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
