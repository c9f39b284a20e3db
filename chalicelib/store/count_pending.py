"""The mark every counted write puts on its invitation: a new `rev` and an entry in the sparse
`count-pending` index, where the counting applier (chalicelib.answers.counting) finds it."""

from __future__ import annotations

import hashlib

from pynamodb.expressions.update import Action

from chalicelib.store.models import Invitation

SHARDS = 8


def shard(invitation_id: str) -> str:
    """Spread pending invitations over a few index partitions, so a burst of answers has no hot key."""
    return f"count#{hashlib.sha256(invitation_id.encode()).digest()[0] % SHARDS}"


def changed(invitation_id: str) -> list[Action]:
    """The actions every counted write adds to its own update."""
    return [Invitation.rev.add(1), Invitation.count_pk.set(shard(invitation_id))]
