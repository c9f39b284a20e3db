"""Cost and speed figures, printed: `python -m bench` runs every bench, `python -m bench.<name>` one.

Each bench starts its own in-memory DynamoDB Local on a free port and uses fresh tables, so
nothing here touches `make run`'s data. Shared setup lives in this module; the benches
build on the product's own use cases (chalicelib), never on tests/.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from pathlib import Path

from localdev import dynamodb

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
SURVEY = {
    "questions": [
        {"id": "nps", "type": "nps", "text": "How likely are you to recommend us?"},
        {"id": "reason", "type": "single_choice", "text": "Why?", "options": ["Price", "Support", "Product"]},
    ]
}
SEGMENTS = ("plan", "region")
PLANS = ("free", "pro", "team")
REGIONS = ("eu", "us")


dynamodb_local = dynamodb.in_memory


def closeloop_env(endpoint: str, outbox: Path, base_url: str = "http://127.0.0.1:8000") -> dict[str, str]:
    """The settings of a local stage on `endpoint`, with tables under a prefix no one else uses."""
    return {
        **dynamodb.CREDENTIALS,
        "CLOSELOOP_STAGE": "local",
        "CLOSELOOP_DYNAMODB_ENDPOINT": endpoint,
        "CLOSELOOP_TABLE_PREFIX": f"bench{secrets.token_hex(3)}-",
        "CLOSELOOP_SIGNING_SECRETS": secrets.token_urlsafe(32),
        "CLOSELOOP_OUTBOX_DIR": str(outbox),
        "CLOSELOOP_MAIL_BACKEND": "file",
        "CLOSELOOP_BASE_URL": base_url,
        "CLOSELOOP_QUEUE_BACKEND": "local",
        "CLOSELOOP_QUEUE_DIR": str(outbox.parent / "queue"),
        "CLOSELOOP_SEND_RATE": "0",
    }


@contextlib.contextmanager
def closeloop_tables(endpoint: str, base_url: str = "http://127.0.0.1:8000") -> Iterator[dict[str, str]]:
    """Set this process's environment for Closeloop on `endpoint` and create the tables; yields the env."""
    with tempfile.TemporaryDirectory(prefix="closeloop-bench-") as scratch:
        env = closeloop_env(endpoint, Path(scratch) / "outbox", base_url)
        saved = {key: os.environ.get(key) for key in env}
        os.environ.update(env)
        try:
            from chalicelib.store.tables import create_tables

            create_tables()
            yield env
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@dataclass
class Launched:
    campaign_id: str
    tokens: list[str]  # one signed page token per invitation, in recipient order


def drain(clock=time.time) -> int:
    """Deliver every queued work message to the work handler, with a chosen clock; returns invocations."""
    from chalicelib.queue import get_queue
    from chalicelib.runtime import work

    return get_queue().drain(lambda event, _context: [work.handle(r, clock) for r in event["Records"]])


def launch(count: int, sent_ago: float = 3600) -> Launched:
    """A campaign with two segments and `count` invitations sent `sent_ago` seconds ago.

    The same path as the admin API: create the campaign, import the recipients, send; the
    work queue's handler fans out and sends. Tokens are read from the messages in the
    outbox, as a customer would click them.
    """
    from chalicelib.campaigns import campaigns
    from chalicelib.core.config import get_settings
    from chalicelib.queue import get_queue
    from chalicelib.sending import imports

    settings = get_settings()
    sent_at = time.time() - sent_ago
    body = {"name": "Bench", "survey": SURVEY, "segments": list(SEGMENTS), "options": {"company": "Bench Co"}}
    campaign = campaigns.create_campaign(campaigns.parse_campaign(body), sent_at)
    rows = recipients(count)
    imports.start(campaign, list(enumerate(rows)), "recipients", sent_at, settings, get_queue())
    drain(lambda: sent_at)
    campaigns.start_sending(campaign.id, sent_at, None, get_queue())
    drain(lambda: sent_at)
    pages = outbox_pages(settings.outbox_dir, settings.base_url)
    missing = [row["email"] for row in rows if row["email"] not in pages]
    if missing:
        raise RuntimeError(f"{len(missing)} invitations were not sent, e.g. {missing[0]}")
    return Launched(campaign.id, [pages[row["email"]] for row in rows])


def recipients(count: int) -> list[dict]:
    """Import rows: `customer00000@example.com`, ... with a plan and a region (the two segments)."""
    return [
        {
            "email": f"customer{i:05d}@example.com",
            "properties": {"plan": PLANS[i % len(PLANS)], "region": REGIONS[i % len(REGIONS)]},
        }
        for i in range(count)
    ]


def outbox_pages(outbox: Path, base_url: str) -> dict[str, str]:
    """{recipient: page token} from the invitation messages in the outbox."""
    page = re.compile(rf'href="{re.escape(base_url)}/s/([A-Za-z0-9_.-]+)"')
    found = {}
    for path in outbox.glob("*.eml"):
        with path.open("rb") as handle:
            message = BytesParser(policy=policy.default).parse(handle)
        tokens = page.findall(message.get_body(("html",)).get_content())
        if tokens:
            found[str(message["To"])] = tokens[0]
    return found


def csrf_of(body: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', body)
    if match is None:
        raise RuntimeError("no csrf field in the page")
    return match.group(1)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


def title(text: str) -> None:
    print(f"\n== {text} ==", flush=True)
