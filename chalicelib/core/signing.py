"""Unguessable ids and HMAC-signed links, verifiable with any of several keys.

An invitation token names its campaign and invitation, carries its expiry, and is signed
with the newest secret. An unsubscribe token names the same and lives longer: UNSUBSCRIBE_DAYS
from the message that carries it, whatever the survey link's lifetime. Any configured secret
verifies, so a key can be rotated without breaking links already in inboxes: add the new
secret first, drop the old one once the longest link lifetime (UNSUBSCRIBE_DAYS, or the
invitation lifetime if set longer) has passed since. A forged or tampered token fails without
a database read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets as random
from dataclasses import dataclass

SIG_BYTES = 16  # 128-bit MACs
DAY = 86400
# Mailbox providers expect an unsubscribe link to work long after its message: a year and a
# margin. Bounded, so a signing key can be dropped once no live link carries it.
UNSUBSCRIBE_DAYS = 400
_SAFE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def new_id(nbytes: int = 16) -> str:
    """128 random bits by default, URL-safe, no padding."""
    return base64.urlsafe_b64encode(random.token_bytes(nbytes)).rstrip(b"=").decode()


def _mac(secret: str, purpose: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}|{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:SIG_BYTES]).rstrip(b"=").decode()


def sign(purpose: str, payload: str, secrets: tuple[str, ...]) -> str:
    return _mac(secrets[0], purpose, payload)


def verify(purpose: str, payload: str, signature: str, secrets: tuple[str, ...]) -> bool:
    return any(hmac.compare_digest(_mac(s, purpose, payload), signature) for s in secrets)


@dataclass(frozen=True)
class InvitationRef:
    campaign_id: str
    invitation_id: str
    expires_at: int


def invitation_token(ref: InvitationRef, secrets: tuple[str, ...]) -> str:
    payload = f"{ref.campaign_id}.{ref.invitation_id}.{ref.expires_at:x}"
    return f"{payload}.{sign('inv', payload, secrets)}"


def read_invitation_token(token: str, secrets: tuple[str, ...], now: float) -> InvitationRef | None:
    """The invitation a token names, or None if it is malformed, forged or expired."""
    return _read(token, ("inv",), secrets, now)


def unsubscribe_token(campaign_id: str, invitation_id: str, sent_at: float, secrets: tuple[str, ...]) -> str:
    """The /u/ token of a message sent at `sent_at` (epoch seconds): valid UNSUBSCRIBE_DAYS from then.

    Signed for unsubscribing only, so the List-Unsubscribe header, which mailbox providers
    read, cannot open the survey.
    """
    payload = f"{campaign_id}.{invitation_id}.{int(sent_at) + UNSUBSCRIBE_DAYS * DAY:x}"
    return f"{payload}.{sign('unsub', payload, secrets)}"


def read_unsubscribe_token(token: str, secrets: tuple[str, ...], now: float) -> InvitationRef | None:
    """The invitation whose recipient may unsubscribe, or None if malformed, forged or expired.

    Messages sent before unsubscribe tokens existed carry the invitation token in their /u/
    link; it keeps working until its own expiry.
    """
    return _read(token, ("unsub", "inv"), secrets, now)


def _read(token: str, purposes: tuple[str, ...], secrets: tuple[str, ...], now: float) -> InvitationRef | None:
    parts = token.split(".")
    if len(parts) != 4 or not all(_SAFE.match(p) for p in parts):
        return None
    campaign_id, invitation_id, exp_hex, signature = parts
    if not any(verify(purpose, ".".join(parts[:3]), signature, secrets) for purpose in purposes):
        return None
    try:
        expires_at = int(exp_hex, 16)
    except ValueError:
        return None
    if expires_at <= now:
        return None
    return InvitationRef(campaign_id, invitation_id, expires_at)


def csrf_token(invitation_id: str, now: float, secrets: tuple[str, ...]) -> str:
    """Bound to one invitation and a time, so a form cannot be replayed elsewhere or forever."""
    issued = f"{int(now):x}"
    return f"{issued}.{sign('csrf', f'{invitation_id}.{issued}', secrets)}"


def check_csrf(token: str, invitation_id: str, now: float, secrets: tuple[str, ...], max_age: int) -> bool:
    issued, _, signature = (token or "").partition(".")
    if not issued or not signature or not verify("csrf", f"{invitation_id}.{issued}", signature, secrets):
        return False
    try:
        age = now - int(issued, 16)
    except ValueError:
        return False
    return -60 <= age <= max_age
