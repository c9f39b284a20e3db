"""Cold start of the Lambda package: botocore bundled or the runtime's, byte-code shipped or compiled at start.

Not part of `make bench` (it builds four package directories): `python -m bench.lambda_package`.

Simulated on this machine, as closely as it allows: each variant is a directory laid out like
the deployment package `chalice package` builds (app.py, chalicelib/, templates/, the runtime
pins of requirements.txt with their dependencies, Chalice's own runtime module), copied from
this virtualenv's installed files without their `__pycache__`. A sample is bench.cold_start's:
a new process, started in the package directory, imports `app` from it and answers a GET and a
POST through the Lambda handler, on a fresh invitation, against DynamoDB Local. Python may not
write byte-code (PYTHONDONTWRITEBYTECODE, as /var/task is read-only on Lambda), so a module
without a shipped .pyc is compiled from source at every cold start.

- bundled: what `chalice package` ships today, botocore (and jmespath, python-dateutil, six)
  inside, no .pyc;
- runtime botocore: the same without botocore and its own dependencies; the interpreter's
  site-packages (this virtualenv, byte-compiled as the Lambda runtime's is) provides them;
- bundled + pyc, runtime botocore + pyc: the same, with every module byte-compiled into the
  package (`compileall --invalidation-mode checked-hash`: the .pyc holds the source's hash, not
  its time, so two builds of the same sources give the same bytes, and a .pyc whose source
  changed is ignored).

Variants are interleaved, the order rotating from round to round.
"""

from __future__ import annotations

import compileall
import re
import shutil
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import bench
from bench import cold_start

ROUNDS = 7
WARMUP = 1
RUNTIME_PINS = ("pynamodb", "jinja2", "click", "tzdata", "urllib3", "email-validator")  # requirements.txt
BOTOCORE = ("botocore", "jmespath", "python-dateutil", "six")  # in the Lambda runtime beside boto3
VARIANTS = ("bundled", "runtime botocore", "bundled + pyc", "runtime botocore + pyc")


def closure(names: tuple[str, ...]) -> list[str]:
    """The distributions `names` need at run time (extras and markers left out), names included."""
    seen: list[str] = []
    pending = list(names)
    while pending:
        name = pending.pop()
        if name.lower() in (s.lower() for s in seen):
            continue
        seen.append(name)
        for requirement in metadata.distribution(name).requires or []:
            if ";" in requirement:
                continue
            pending.append(re.match(r"[A-Za-z0-9._-]+", requirement).group(0))
    return seen


def copy_distribution(name: str, target: Path) -> None:
    for file in metadata.distribution(name).files or []:
        parts = Path(file).parts
        if "__pycache__" in parts or parts[0].endswith((".dist-info", ".data")) or parts[0] == "..":
            continue
        source = Path(file.locate())
        if source.is_file():
            (target / file).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / file)


def build(target: Path, with_botocore: bool, compiled: bool) -> int:
    """One package directory; returns its size in bytes."""
    shutil.copyfile(bench.ROOT / "app.py", target / "app.py")
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(bench.ROOT / "chalicelib", target / "chalicelib", ignore=ignore)
    shutil.copytree(bench.ROOT / "templates", target / "templates", ignore=ignore)
    for name in closure(RUNTIME_PINS):
        if with_botocore or name.lower() not in BOTOCORE:
            copy_distribution(name, target)
    chalice = Path(metadata.distribution("chalice").locate_file("chalice"))
    (target / "chalice").mkdir()
    for name in ("__init__.py", "app.py"):
        shutil.copyfile(chalice / name, target / "chalice" / name)
    if compiled:
        compileall.compile_dir(
            target, quiet=1, workers=0, invalidation_mode=compileall.py_compile.PycInvalidationMode.CHECKED_HASH
        )
    return sum(path.stat().st_size for path in target.rglob("*") if path.is_file())


def run(rounds: int = ROUNDS, warmup: int = WARMUP) -> dict:
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="closeloop-package-") as scratch,
        bench.dynamodb_local() as endpoint,
        bench.closeloop_tables(endpoint) as env,
    ):
        dirs, sizes = {}, {}
        for n, variant in enumerate(VARIANTS):
            dirs[variant] = Path(scratch) / f"variant{n}"
            dirs[variant].mkdir()
            sizes[variant] = build(dirs[variant], "runtime" not in variant, "pyc" in variant)
        launched = bench.launch((rounds + warmup) * len(VARIANTS))
        product_env = {**cold_start._env(env), "PYTHONDONTWRITEBYTECODE": "1"}
        tokens = iter(launched.tokens)
        samples: dict[str, list[dict]] = {variant: [] for variant in VARIANTS}
        failures: list[str] = []
        for n in range(warmup + rounds):
            order = VARIANTS[n % len(VARIANTS) :] + VARIANTS[: n % len(VARIANTS)]
            for variant in order:
                got = cold_start.sample("app", next(tokens), env["CLOSELOOP_BASE_URL"], product_env, cwd=dirs[variant])
                if got["statuses"] != [200, 200] or not got["thanked"]:
                    failures.append(f"{variant}: {got['statuses']}")
                if n >= warmup:
                    samples[variant].append(got)
    return {"samples": samples, "sizes": sizes, "failures": failures, "seconds": time.perf_counter() - started}


def report(result: dict) -> None:
    samples = result["samples"]
    bench.title(
        f"Lambda package cold start: import + GET + POST in a new process from the package directory,"
        f" no byte-code written ({len(samples[VARIANTS[0]])} interleaved rounds)"
    )
    print(f"{'':<24}{'size':>9}{'import':>10}{'median':>10}{'p99':>10}")
    for variant in VARIANTS:
        total = [s["total"] for s in samples[variant]]
        imported = [s["import"] for s in samples[variant]]
        print(
            f"{variant:<24}{result['sizes'][variant] / 1e6:>7.1f}MB{bench.median(imported) * 1000:>8.0f}ms"
            f"{bench.median(total) * 1000:>8.0f}ms{bench.percentile(total, 0.99) * 1000:>8.0f}ms"
        )
    print("(size: unpacked; import: `import app` alone, median; median and p99: import + GET + POST)")
    print(f"check: {len(result['failures'])} failed samples")
    print(f"ran in {result['seconds']:.1f}s")


def main(argv: list[str] | None = None) -> None:
    report(run())


if __name__ == "__main__":
    main(sys.argv[1:])
