"""Local development: `python -m localdev run|install|install-test-tools|env`."""

from __future__ import annotations

import shlex
import sys


def main(argv: list[str]) -> None:
    command = argv[0] if argv else "run"
    if command == "run":
        from localdev.run import main as run

        run()
    elif command == "install":
        from localdev.dynamodb import install

        print(f"DynamoDB Local: {install()}")
    elif command == "install-test-tools":
        from localdev.pagecheck import install as install_checkers

        print(f"page checkers: {install_checkers()}")
    elif command == "env":
        from localdev.run import local_env

        for key, value in local_env().items():
            print(f"export {key}={shlex.quote(value)}")
    else:
        raise SystemExit(f"unknown command {command!r}: use run, install, install-test-tools or env")


main(sys.argv[1:])
