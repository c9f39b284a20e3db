"""Page checkers for the browser tests: axe-core (WCAG 2.1 AA rules, run inside the page) and the
W3C Nu HTML checker (vnu-jar, Java). Both come pinned from npm into .local/npm-test, installed by
`make test` (`python -m localdev install-test-tools`); `make run` does not need them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NPM_DIR = HERE.parent / ".local" / "npm-test"
AXE_JS = NPM_DIR / "node_modules" / "axe-core" / "axe.min.js"
VNU_JAR = NPM_DIR / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def install() -> Path:
    """Install the pinned checkers once (npm ci); returns the npm directory."""
    lock = HERE / "pagecheck-npm" / "package-lock.json"
    stamp = NPM_DIR / ".installed"
    if AXE_JS.exists() and VNU_JAR.exists() and stamp.exists() and stamp.read_text() == lock.read_text():
        return NPM_DIR
    NPM_DIR.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(HERE / "pagecheck-npm" / name, NPM_DIR / name)
    print("installing axe-core and vnu-jar (npm) into .local/npm-test ...", flush=True)
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(NPM_DIR)], check=True, cwd=NPM_DIR
    )
    stamp.write_text(lock.read_text())
    return NPM_DIR


def axe_violations(page: Any, tags: list[str] = WCAG_AA) -> list[dict]:
    """axe-core's violations of `tags` on a Playwright page as loaded: [{id, impact, help, nodes: [html]}]."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text() + "\n;0")  # evaluated by the debugger, so the page's CSP does not apply
    found = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", tags)
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["html"] for n in v["nodes"]]}
        for v in found["violations"]
    ]


def nu_errors(pages: dict[str, str], scratch: Path) -> list[str]:
    """The W3C Nu checker's errors for HTML documents {name: html}, one JVM for all: ["name:line: message"]."""
    scratch.mkdir(parents=True, exist_ok=True)
    files = []
    for index, (name, html) in enumerate(pages.items()):
        path = scratch / f"{index:03d}.html"
        path.write_text(html, encoding="utf-8")
        files.append((path, name))
    names = {str(path): name for path, name in files}
    result = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--format", "json", "--exit-zero-always", *names],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    messages = json.loads(result.stderr or result.stdout)["messages"]
    return [
        f"{names.get(m.get('url', '').removeprefix('file:'), m.get('url'))}:{m.get('lastLine')}: {m['message']}"
        for m in messages
        if m["type"] == "error"
    ]
