"""`chalice local` as `make run` serves it: with TCP_NODELAY on every accepted connection.

Python's http.server, which `chalice local` runs, writes a response's headers and its body in
two sends; on a kept-alive connection Nagle's algorithm then holds the body back until the
client's delayed ACK, about 40 ms on Linux, so every request after a connection's first took
40 ms more (browsers keep connections alive; API Gateway has no such delay). The request
handler's own switch, `disable_nagle_algorithm`, turns it off. Runs as a script too
(`python localdev/serve.py local ...`), which bench.answer_latency uses for its floor app.
"""

from __future__ import annotations

import logging
import sys

from chalice import local
from chalice.cli import main


def run(argv: list[str]) -> int:
    """`chalice <argv>` (e.g. ["local", "--port", "8000"]) with Nagle's algorithm off; its exit code."""
    local.ChaliceRequestHandler.disable_nagle_algorithm = True
    # chalice local logs at INFO; PynamoDB's import then announces it has no /etc/pynamodb override file
    logging.getLogger("pynamodb.settings").setLevel(logging.WARNING)
    sys.argv = ["chalice", *argv]
    return main()


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
