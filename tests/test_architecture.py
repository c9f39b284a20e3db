"""The package layout holds: the import contracts pass, fail on an upward import or a cycle, and no
module imports another inside a function except the lazy imports listed here (docs/architecture.md)."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# Imports inside a function that are kept on purpose, for cold start; each carries a comment
# saying so on its line. (file, imported module)
LAZY_IMPORTS = {
    # a CLI command is a fresh process: each loads only what it runs
    ("chalicelib/cli.py", "chalicelib.store.tables"),
    ("chalicelib/cli.py", "chalicelib.runtime.demo"),
    ("chalicelib/cli.py", "chalicelib.runtime.jobs"),
    ("chalicelib/cli.py", "chalicelib.admin.auth"),
    ("chalicelib/cli.py", "chalicelib.insight.rebuild"),
    ("chalicelib/cli.py", "chalicelib.campaigns"),
    ("chalicelib/cli.py", "chalicelib.insight"),
    ("chalicelib/cli.py", "chalicelib.dashboard"),
    ("chalicelib/cli.py", "chalicelib.privacy"),
    ("chalicelib/cli.py", "chalicelib.delighted"),
    # only parsing a campaign checks its URLs; loading one for an answer page does not
    ("chalicelib/campaigns/campaigns.py", "chalicelib.web"),
    # app.py's handlers other than the answer pages load their modules on first use (core.lazy.OnFirstUse)
    ("app.py", "chalicelib.admin.api"),
    ("app.py", "chalicelib.admin.auth"),
    ("app.py", "chalicelib.admin.openapi"),
    ("app.py", "chalicelib.answers.counting"),
    ("app.py", "chalicelib.insight.digest"),
    ("app.py", "chalicelib.insight.digest_recipients"),
    ("app.py", "chalicelib.loop.followups"),
    ("app.py", "chalicelib.runtime.work"),
    ("app.py", "chalicelib.sending.delivery"),
    ("app.py", "chalicelib.web.outbox"),
    ("app.py", "chalicelib.dashboard.gallery"),
    ("app.py", "chalicelib.privacy.retention"),
    ("app.py", "chalicelib.delighted.history_import"),
    ("app.py", "chalicelib.delighted.v1"),
    ("app.py", "chalicelib.delighted.keys"),
    ("app.py", "chalicelib.delighted.shapes"),
    # the dashboard's pages register their routes at import and load their use cases on request
    ("chalicelib/dashboard/web.py", "chalicelib.dashboard.sessions"),
    ("chalicelib/dashboard/web.py", "email.parser"),
    ("chalicelib/dashboard/web.py", "email.policy"),
    ("chalicelib/dashboard/access.py", "chalicelib.admin.auth"),
    ("chalicelib/dashboard/access.py", "chalicelib.dashboard.sessions"),
    ("chalicelib/dashboard/access.py", "chalicelib.dashboard.people"),
    ("chalicelib/dashboard/loop_pages.py", "chalicelib.admin.api"),
    ("chalicelib/dashboard/loop_pages.py", "chalicelib.admin.auth"),
    ("chalicelib/dashboard/loop_pages.py", "chalicelib.campaigns.campaigns"),
    ("chalicelib/dashboard/loop_pages.py", "chalicelib.loop.casework"),
    ("chalicelib/dashboard/loop_pages.py", "chalicelib.insight.falling"),
    ("chalicelib/dashboard/loop_pages.py", "chalicelib.loop.followups"),
    ("chalicelib/dashboard/loop_pages.py", "zoneinfo"),
    ("chalicelib/dashboard/recipient_pages.py", "chalicelib.admin.api"),
    ("chalicelib/dashboard/recipient_pages.py", "chalicelib.admin.auth"),
    ("chalicelib/dashboard/recipient_pages.py", "chalicelib.campaigns.campaigns"),
    ("chalicelib/dashboard/recipient_pages.py", "chalicelib.sending.forecast"),
    ("chalicelib/dashboard/recipient_pages.py", "chalicelib.sending.imports"),
    ("chalicelib/dashboard/insight_pages.py", "chalicelib.admin.api"),
    ("chalicelib/dashboard/insight_pages.py", "chalicelib.answers.held"),
    ("chalicelib/dashboard/insight_pages.py", "chalicelib.campaigns.campaigns"),
    ("chalicelib/dashboard/insight_pages.py", "chalicelib.core.nps"),
    ("chalicelib/dashboard/insight_pages.py", "chalicelib.insight.digest"),
    ("chalicelib/dashboard/insight_pages.py", "chalicelib.insight.overview"),
    ("chalicelib/dashboard/settings_pages.py", "chalicelib.admin.api"),
    ("chalicelib/dashboard/settings_pages.py", "chalicelib.admin.auth"),
    ("chalicelib/dashboard/settings_pages.py", "chalicelib.campaigns.campaigns"),
    ("chalicelib/dashboard/settings_pages.py", "chalicelib.insight.digest_recipients"),
    ("chalicelib/dashboard/builder_languages.py", "chalicelib.admin.api"),
    ("chalicelib/dashboard/builder_languages.py", "chalicelib.campaigns.campaigns"),
    ("chalicelib/dashboard/builder_options.py", "chalicelib.admin.api"),
    ("chalicelib/dashboard/builder_options.py", "chalicelib.campaigns.campaigns"),
    ("chalicelib/dashboard/builder_options.py", "chalicelib.sending.invitations"),
    ("chalicelib/dashboard/insight_pages.py", "chalicelib.insight.stats"),
    ("chalicelib/dashboard/send_pages.py", "chalicelib.admin.api"),
    ("chalicelib/dashboard/send_pages.py", "chalicelib.admin.auth"),
    ("chalicelib/dashboard/send_pages.py", "chalicelib.campaigns.campaigns"),
    ("chalicelib/dashboard/send_pages.py", "chalicelib.answers.survey_pages"),
    ("chalicelib/dashboard/send_pages.py", "chalicelib.store.models"),
    ("chalicelib/dashboard/send_pages.py", "chalicelib.insight.stats"),
    ("chalicelib/dashboard/send_pages.py", "chalicelib.sending.forecast"),
    ("chalicelib/dashboard/send_pages.py", "chalicelib.sending.imports"),
    ("chalicelib/dashboard/send_pages.py", "zoneinfo"),
    ("chalicelib/dashboard/builder.py", "chalicelib.admin.api"),
    ("chalicelib/dashboard/builder.py", "chalicelib.admin.auth"),
    ("chalicelib/dashboard/builder.py", "chalicelib.campaigns.campaigns"),
    ("chalicelib/dashboard/builder.py", "chalicelib.core.surveys"),
    ("chalicelib/dashboard/builder.py", "zoneinfo"),
    # only the configured backend loads; the AWS ones bring boto3's clients
    ("chalicelib/mail/config.py", "chalicelib.mail.file"),
    ("chalicelib/mail/config.py", "chalicelib.mail.ses"),
    ("chalicelib/queue/config.py", "chalicelib.queue.local"),
    ("chalicelib/queue/config.py", "chalicelib.queue.sqs"),
}


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """lint-imports on the tree at `root`, which must come first on the path (the suite's PYTHONPATH names ours)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def copy_of_tree(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "chalicelib", tmp_path / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_import(module: Path, line: str) -> None:
    text = module.read_text()
    head, sep, rest = text.partition("\nfrom chalicelib")
    module.write_text(f"{head}\n{line}{sep}{rest}")


def test_the_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


def test_an_upward_import_breaks_the_layers(tmp_path):
    tree = copy_of_tree(tmp_path)
    add_import(tree / "chalicelib/sending/delivery.py", "from chalicelib.insight import reports")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "then the features in one order, then core BROKEN" in " ".join(result.stdout.split())  # may wrap
    assert "chalicelib.sending.delivery -> chalicelib.insight.reports" in result.stdout


def test_core_importing_an_adapter_breaks_its_contract(tmp_path):
    tree = copy_of_tree(tmp_path)
    add_import(tree / "chalicelib/core/nps.py", "from chalicelib.store import bind")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "core imports no feature and no adapter BROKEN" in result.stdout


def test_a_cycle_inside_a_package_breaks_the_acyclic_contract(tmp_path):
    tree = copy_of_tree(tmp_path)
    # alerts already imports webhooks; webhooks importing alerts closes a circle within loop
    add_import(tree / "chalicelib/loop/webhooks.py", "from chalicelib.loop import alerts")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "no cycles between the modules or packages of any package BROKEN" in result.stdout


def python_files() -> list[Path]:
    return [ROOT / "app.py", *sorted((ROOT / "chalicelib").rglob("*.py"))]


def imported_modules(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        return [node.module or ""]
    return [alias.name for alias in node.names]


def test_no_module_imports_another_inside_a_function_but_the_listed_lazy_ones():
    found = set()
    for path in python_files():
        lines = path.read_text().splitlines()
        for call in ast.walk(ast.parse(path.read_text())):
            if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "OnFirstUse":
                where = (str(path.relative_to(ROOT)), call.args[0].value)
                found.add(where)
                assert where in LAZY_IMPORTS, f"{where[0]}:{call.lineno} loads {where[1]} on first use, unlisted"
                assert "cold start" in lines[call.lineno - 1], f"{where[0]}:{call.lineno} does not say why"
        for function in ast.walk(ast.parse(path.read_text())):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if not isinstance(node, ast.Import | ast.ImportFrom):
                    continue
                for module in imported_modules(node):
                    if module.split(".")[0] not in ("chalicelib", "app"):
                        continue  # third-party libraries loaded late for cold start (jinja2, boto3) cannot cycle
                    where = (str(path.relative_to(ROOT)), module)
                    found.add(where)
                    assert where in LAZY_IMPORTS, f"{where[0]}:{node.lineno} imports {module} inside a function"
                    assert "cold start" in lines[node.lineno - 1], f"{where[0]}:{node.lineno} does not say why"
    assert found == LAZY_IMPORTS, f"listed but gone: {sorted(LAZY_IMPORTS - found)}"


def test_app_stays_on_top():
    """import-linter cannot take app.py as a root, so this checks that nothing in chalicelib imports it."""
    for path in python_files()[1:]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                assert "app" not in [m.split(".")[0] for m in imported_modules(node)], path


def test_importing_app_leaves_what_the_answer_pages_do_not_use_unloaded():
    """A cold Lambda imports app.py before its first request; the admin API, the schedules, the
    templates, the CSV import, outbound calls and boto3's clients load when first used."""
    never = [module for file, module in LAZY_IMPORTS if file == "app.py"]
    never += ["chalicelib.web.outbound", "chalicelib.sending.imports", "jinja2", "email_validator", "boto3"]
    never += ["chalicelib.core.nps", "email.policy", "statistics", "zoneinfo"]
    code = f"import sys, app; print([m for m in {never!r} if m in sys.modules])"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # not the suite's AWS call recorder
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_aws_clients_of_a_cold_process_share_one_botocore_session_without_boto3():
    """The models' DynamoDB client and the SQS, SES and SSM clients load the service data once, each
    client is built once, and boto3 (its own session and ~40 ms of imports) never loads."""
    code = """
import sys, app
from chalicelib.core import aws
from chalicelib.store.models import Campaign, Invitation
dynamodb = Campaign._get_connection().connection.client
assert Invitation._get_connection().connection.client is dynamodb
others = [aws.client(service, "us-east-1") for service in ("sqs", "sesv2", "ssm")]
assert [aws.client(service, "us-east-1") for service in ("sqs", "sesv2", "ssm")] == others
print(len({id(client._loader) for client in [dynamodb, *others]}), "boto3" in sys.modules)
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "False"]
