"""Byte-code in the Lambda package, so that a cold start does not compile every module (nor the
page templates) from source.

`chalice package` ships sources only, and /var/task is read-only on Lambda, so Python compiled
every module of the package (botocore's above all) at every cold start and could not keep the
result. Measured with `python -m bench.lambda_package` (docs/architecture.md, The Lambda
package): a cold first answer takes about a third of the time with the byte-code shipped.

The .pyc files are checked-hash (PEP 552): each holds its source's hash, not a time, and the
path compiled into it is the module's path under /var/task, not the build's scratch folder, so
two builds of the same sources with the same Python give the same bytes; a .pyc whose source
differs is ignored rather than trusted. They are compiled by the Python that runs `chalice
package`, whose version also sets the functions' runtime (python3.11 here); a runtime of another
version looks for its own cache tag and falls back to the sources.

The page and email templates are compiled into the package too, into the cache Jinja2 reads
them from (`templates/__jinja__`, chalicelib.web.render.compile_templates): whatever a
developer's own runs left there is replaced, and a template whose source differs from the
one compiled is compiled again at run time, never served stale.
"""

from __future__ import annotations

import compileall
import py_compile
import tempfile
import zipfile
from pathlib import Path

from chalicelib.web.render import COMPILED, compile_templates

FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip entries carry no build time
LAMBDA_ROOT = "/var/task"  # the path compiled into the byte-code, where Lambda unpacks the package


def add_bytecode(archive: Path) -> int:
    """Rewrite the zip at `archive` with a checked-hash .pyc (`__pycache__/<module>.<cache tag>.pyc`) for
    every module, and the templates compiled; returns how many modules. Any .pyc or compiled template it
    held already (Chalice copies a project's `__pycache__` and `templates/__jinja__`, made on the
    developer's machine) is replaced. A module that does not compile is left as source."""
    with tempfile.TemporaryDirectory(prefix="closeloop-bytecode-") as scratch:
        root = Path(scratch)
        with zipfile.ZipFile(archive) as package:
            entries = [
                (info, package.read(info))
                for info in package.infolist()
                if not info.filename.endswith(".pyc") and not info.filename.startswith(f"templates/{COMPILED}/")
            ]
        for info, data in entries:
            if not info.is_dir():
                (root / info.filename).parent.mkdir(parents=True, exist_ok=True)
                (root / info.filename).write_bytes(data)
        compileall.compile_dir(
            root, ddir=LAMBDA_ROOT, quiet=2, workers=0, invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH
        )
        compiled = sorted(path.relative_to(root).as_posix() for path in root.rglob("*.pyc"))
        templates: list[str] = []
        if (root / "templates").is_dir():
            compile_templates(root / "templates", f"{LAMBDA_ROOT}/templates")
            templates = sorted(path.relative_to(root).as_posix() for path in (root / "templates" / COMPILED).iterdir())
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as package:
            for info, data in entries:
                package.writestr(info, data)
            for name in compiled + templates:
                entry = zipfile.ZipInfo(name, date_time=FIXED_TIME)
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry.external_attr = 0o644 << 16
                package.writestr(entry, (root / name).read_bytes())
    return len(compiled)
