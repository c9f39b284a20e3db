"""The CDK app: one stack per stage of infra/stages.json, synthesized offline.

`make synth` writes infra/cdk.out/; the CDK CLI runs the same code through infra/cdk.json
(`cd infra && npx aws-cdk@2 deploy prod`). Synthesis needs no AWS credentials: the stacks are
environment-agnostic (account and region come from the CLI at deploy time).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import cx_api
from pynamodb.models import Model

from chalicelib.store.models import MODELS
from infra.permissions import PERMISSIONS, Grants
from infra.stack import PROJECT_ROOT, CloseloopStack
from infra.stages import Stage, load_stages

OUTDIR = Path(__file__).resolve().parent / "cdk.out"


def synthesize(
    outdir: Path = OUTDIR,
    stages: Mapping[str, Stage] | None = None,
    source_dir: Path = PROJECT_ROOT,
    permissions: Mapping[str, Grants] = PERMISSIONS,
    models: tuple[type[Model], ...] = MODELS,
) -> cx_api.CloudAssembly:
    """Package the Chalice app for each stage and write the templates and assets to `outdir`."""
    stages = load_stages() if stages is None else stages
    with _packaging():
        app = cdk.App(outdir=str(outdir))
        for stage in stages.values():
            CloseloopStack(app, stage, source_dir=source_dir, permissions=permissions, models=models)
        return app.synth()


@contextlib.contextmanager
def _packaging() -> Iterator[None]:
    """Leave the process as it was: `chalice package` sets the stage's environment variables in
    os.environ, extends sys.path and writes ./chalice.out (here, a temporary directory)."""
    environ, path = dict(os.environ), list(sys.path)
    # Packaging needs a region to name things, never credentials.
    os.environ.setdefault("AWS_DEFAULT_REGION", os.environ.get("CDK_DEFAULT_REGION") or "us-east-1")
    try:
        with tempfile.TemporaryDirectory(prefix="closeloop-chalice-") as work, contextlib.chdir(work):
            yield
    finally:
        os.environ.clear()
        os.environ.update(environ)
        sys.path[:] = path


def main() -> None:
    # The CDK CLI names its output directory (relative to infra/, where it runs us).
    outdir = Path(os.environ.get("CDK_OUTDIR") or OUTDIR).resolve()
    assembly = synthesize(outdir)
    for stack in assembly.stacks:
        print(f"{stack.stack_name}: {Path(assembly.directory) / stack.template_file}")


if __name__ == "__main__":
    main()
