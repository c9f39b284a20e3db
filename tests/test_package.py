"""The Lambda deployment package carries `templates/` and serves pages and emails on its own.

Chalice packages only app.py, chalicelib/ and vendor/; `vendor/templates` is a committed
link to `../templates`, which Chalice's packager follows, so the templates land at the root
of the zip beside app.py. This test builds the package as `chalice package` would for a
deploy, adds the byte-code the stack adds (infra/bytecode.py), unzips it into an empty folder
and runs the packaged code from there, with the project root off `sys.path` and no byte-code
written (Lambda's /var/task is read-only), against DynamoDB Local.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from chalicelib.core import i18n
from infra.bytecode import add_bytecode
from tests.conftest import ROOT
from tests.helpers import launch

# Runs inside the unzipped package: argv = [campaign id, page path, email, project root].
PACKAGED_RUN = r"""
import json, os, sys, time
from pathlib import Path

here = Path.cwd().resolve()
root = Path(sys.argv[4]).resolve()
on_path = [str(Path(p or ".").resolve()) for p in sys.path]

import app
import babel
import chalicelib
import jinja2
import pynamodb
from chalicelib.core import i18n
from chalicelib.campaigns.campaigns import get_campaign
from chalicelib.core.config import get_settings
from chalicelib.sending.invitations import invitation_id, render_invitation
from chalicelib.store.models import Invitation

campaign_id, page, email = sys.argv[1:4]
token = page.rsplit("/", 1)[1]


class Context:
    function_name = "closeloop-dev"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    aws_request_id = "package-test"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:closeloop-dev"

    @staticmethod
    def get_remaining_time_in_millis():
        return 60000


event = {
    "resource": "/s/{token}",
    "path": page,
    "httpMethod": "GET",
    "headers": {"Accept": "text/html", "Host": "example.execute-api.us-east-1.amazonaws.com"},
    "multiValueHeaders": {"Accept": ["text/html"], "Host": ["example.execute-api.us-east-1.amazonaws.com"]},
    "queryStringParameters": {"a": "9"},
    "multiValueQueryStringParameters": {"a": ["9"]},
    "pathParameters": {"token": token},
    "stageVariables": None,
    "requestContext": {
        "resourcePath": "/s/{token}",
        "httpMethod": "GET",
        "path": "/api" + page,
        "stage": "api",
        "requestId": "package-test",
        "identity": {"sourceIp": "203.0.113.9", "userAgent": "package-test"},
    },
    "body": None,
    "isBase64Encoded": False,
}
compiled = []  # template files compiled at run time, not read compiled from the package (a campaign's own texts are)
_compile = jinja2.Environment.compile
jinja2.Environment.compile = lambda self, source, name=None, *args, **kwargs: (
    (compiled.append(name) if name else None) or _compile(self, source, name, *args, **kwargs)
)
response = app.app(event, Context())

campaign = get_campaign(campaign_id)
invitation = Invitation.get(invitation_id(campaign_id, email))
message = render_invitation(campaign, invitation, get_settings(), time.time())

print(json.dumps({
    "cwd": str(here),
    "root_on_path": str(root) in on_path,
    "files": {m.__name__: str(Path(m.__file__).resolve()) for m in (app, babel, chalicelib, jinja2, pynamodb)},
    "french": i18n.translations("fr").gettext("Submit"),
    "german_number": i18n.format_number(1234.5, "de"),
    "status": response["statusCode"],
    "body": response["body"],
    "content_type": message.get_content_type(),
    "parts": [part.get_content_type() for part in message.iter_parts()],
    "text": message.get_body(("plain",)).get_content(),
    "html": message.get_body(("html",)).get_content(),
    "compiled": compiled,
}))
"""


def _build_package(out: Path) -> Path:
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "chalice"), "package", "--stage", "dev", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"chalice package failed:\n{done.stdout}\n{done.stderr}"
    return out / "deployment.zip"


@pytest.mark.slow
def test_the_lambda_package_carries_the_templates_and_renders_from_them(db, outbox, tmp_path):
    sent = launch(outbox)
    email, page = next(iter(sent.pages.items()))
    assert page.startswith("/s/")

    archive = _build_package(tmp_path / "out")
    again = tmp_path / "again.zip"
    shutil.copyfile(archive, again)
    added = add_bytecode(archive)
    add_bytecode(again)
    with zipfile.ZipFile(archive) as one, zipfile.ZipFile(again) as other:
        names = set(one.namelist())
        sources = [Path(name) for name in names if name.endswith(".py")]
        compiled = [name for name in names if name.endswith(".pyc")]
        assert added == len(compiled) == len(sources)
        for source in sources:  # every module has its byte-code for this Python
            assert (
                source.parent / "__pycache__" / f"{source.stem}.{sys.implementation.cache_tag}.pyc"
            ).as_posix() in names
        assert all(one.read(name) == other.read(name) for name in compiled), "byte-code not reproducible"
        templates = [name for name in names if name.startswith("templates/__jinja__/")]
        assert len(templates) >= 40, "the templates are not compiled into the package"
        assert all(one.read(name) == other.read(name) for name in templates), "compiled templates not reproducible"
    sam = json.loads((tmp_path / "out" / "sam.json").read_text())
    runtimes = {
        r["Properties"]["Runtime"] for r in sam["Resources"].values() if r["Type"] == "AWS::Serverless::Function"
    }
    assert runtimes == {f"python{sys.version_info.major}.{sys.version_info.minor}"}  # the byte-code's version
    unzipped = tmp_path / "unzipped"
    unzipped.mkdir()
    assert not any(unzipped.iterdir())
    with zipfile.ZipFile(archive) as package:
        package.extractall(unzipped)
    for name in ("app.py", "chalicelib/__init__.py", "templates/survey.html", "templates/email/invitation.html"):
        assert (unzipped / name).is_file(), f"{name} is not in the deployment package"
    for locale in i18n.LANGUAGES.keys() - {i18n.DEFAULT_LOCALE}:  # the compiled catalogs the pages read
        catalog = f"chalicelib/locales/{locale}/LC_MESSAGES/messages.mo"
        assert (unzipped / catalog).is_file(), f"{catalog} is not in the deployment package"
    for module in ("app.py", "chalicelib/answers/responses.py", "botocore/client.py", "pynamodb/models.py"):
        source = unzipped / module
        pyc = (source.parent / "__pycache__" / f"{source.stem}.{sys.implementation.cache_tag}.pyc").read_bytes()
        flags = int.from_bytes(pyc[4:8], "little")
        assert flags == 0b11, f"{module}: not a checked-hash .pyc"
        assert pyc[8:16] == importlib.util.source_hash(source.read_bytes()), f"{module}: .pyc of another source"

    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "CLOSELOOP_"))}
    env.update(db, PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-c", PACKAGED_RUN, sent.campaign.id, page, email, str(ROOT)],
        cwd=unzipped,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)

    here = unzipped.resolve()
    assert Path(result["cwd"]) == here
    assert not result["root_on_path"]
    for module, path in result["files"].items():
        assert Path(path).is_relative_to(here), f"{module} was imported from {path}, not from the package"

    assert result["french"] == "Envoyer" and result["german_number"] == "1.234,5"  # catalogs and CLDR data
    assert result["status"] == 200, result["body"]
    assert result["compiled"] == [], "a template was compiled at run time instead of read from the package"
    assert '<input type="radio" name="q_nps" value="9" checked required>' in result["body"]

    assert result["content_type"] == "multipart/alternative"
    assert result["parts"] == ["text/plain", "text/html"]
    assert page in result["text"]
    assert f"{page}?a=9" in result["html"]
