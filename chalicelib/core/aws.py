"""One botocore session per process for every AWS client Closeloop builds, each client built once.

The models' DynamoDB client (chalicelib.store.models), the work queue's SQS client, the SES
client and the SSM client all come from it. A session loads the endpoint and service data on
its first client and reuses them for the next ones; a second session (boto3's default one, or
PynamoDB's own per connection) would load them again, and `import boto3` alone costs a cold
Lambda about 40 ms more. So these are plain botocore clients: boto3 adds nothing Closeloop uses
to these services. botocore does not make building clients from one session thread-safe, so
it happens under a lock. A session is kept per access key, as `store.bind` keys its binding,
so a test that changes the credentials gets clients that use them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import botocore.session

T = TypeVar("T")

_lock = threading.RLock()
_sessions: dict[str | None, botocore.session.Session] = {}
_clients: dict[tuple[str, str, str | None], Any] = {}


def build(make: Callable[[botocore.session.Session], T]) -> T:
    """`make(session)` under the lock, with this process's session for the current credentials."""
    key = os.environ.get("AWS_ACCESS_KEY_ID")
    with _lock:
        if key not in _sessions:
            _sessions[key] = botocore.session.get_session()
        return make(_sessions[key])


def client(service: str, region: str) -> Any:
    """The botocore client for `service` (e.g. "sqs", "sesv2", "ssm") in `region`, built on first use."""
    key = (service, region, os.environ.get("AWS_ACCESS_KEY_ID"))
    with _lock:
        if key not in _clients:
            _clients[key] = build(lambda session: session.create_client(service, region_name=region))
        return _clients[key]
