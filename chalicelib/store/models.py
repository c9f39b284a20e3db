"""PynamoDB models: one table per entity. Keys and indexes are explained in docs/data-model.md.

Table names and the endpoint are bound at run time by `chalicelib.store.bind()`, which every
model calls before it talks to DynamoDB (so any entry point may be a fresh process's first); the
names below are suffixes after `CLOSELOOP_TABLE_PREFIX`. Machine times are epoch seconds (numbers),
so conditions and sort keys compare them directly and TTL can use them.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from pynamodb import models
from pynamodb.attributes import (
    BinaryAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    NumberSetAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.connection import Connection, TableConnection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.core import aws
from chalicelib.core.config import Settings, store_location
from chalicelib.core.errors import CursorRefused


class Model(models.Model):
    """PynamoDB's model, bound to the settings' tables before each use; a warm process compares a tuple.

    Every model shares one botocore client per binding: PynamoDB would build a session and a
    client per model, about 0.2 s each, on a cold Lambda and in every test.
    """

    @classmethod
    def _get_connection(cls) -> TableConnection:
        bind()
        table = super()._get_connection()
        if table.connection._client is None:
            table.connection._client = _shared_client(table.connection)
        return table


class _Meta:
    table_name = ""
    host = None
    region = "us-east-1"
    billing_mode = "PAY_PER_REQUEST"
    max_retry_attempts = 3


def _index_meta(name: str, projection: type) -> type:
    return type("Meta", (), {"index_name": name, "projection": projection(), "billing_mode": "PAY_PER_REQUEST"})


class AllCampaignsIndex(GlobalSecondaryIndex):
    Meta = _index_meta("all-campaigns", AllProjection)
    list_pk = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


class ScheduledCampaignsIndex(GlobalSecondaryIndex):
    """Sparse: campaigns waiting to start sending carry `sched_pk`."""

    Meta = _index_meta("scheduled-campaigns", KeysOnlyProjection)
    sched_pk = UnicodeAttribute(hash_key=True)
    send_at = NumberAttribute(range_key=True)


class Campaign(Model):
    TABLE = "campaigns"

    class Meta(_Meta):
        pass

    id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    status = UnicodeAttribute(default="draft")
    kind = UnicodeAttribute(default="one_off")
    interval_days = NumberAttribute(null=True)
    send_at = NumberAttribute(null=True)
    sched_pk = UnicodeAttribute(null=True)
    paused_from = UnicodeAttribute(null=True)
    survey = JSONAttribute()
    segments = ListAttribute(of=UnicodeAttribute, default=list)
    timezone = UnicodeAttribute(default="UTC")
    options = JSONAttribute(default=dict)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    sent_at = NumberAttribute(null=True)
    list_pk = UnicodeAttribute(default="campaign")
    all_campaigns = AllCampaignsIndex()
    scheduled = ScheduledCampaignsIndex()


class ContactIdIndex(GlobalSecondaryIndex):
    Meta = _index_meta("contact-id", KeysOnlyProjection)
    id = UnicodeAttribute(hash_key=True)


class AllContactsIndex(GlobalSecondaryIndex):
    """Sparse: contacts created since the v1 API lists people carry `list_pk`, oldest first."""

    Meta = _index_meta("all-contacts", AllProjection)
    list_pk = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


class ContactDelightedIdIndex(GlobalSecondaryIndex):
    """Sparse: contacts imported from Delighted's people, by their Delighted person id, so responses that
    name their person by id only find the address in a later import (chalicelib.delighted.history_import)."""

    Meta = _index_meta("contact-delighted-id", KeysOnlyProjection)
    delighted_id = UnicodeAttribute(hash_key=True)


class Contact(Model):
    TABLE = "contacts"

    class Meta(_Meta):
        pass

    email = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute()
    properties = MapAttribute(default=dict)
    timezone = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(null=True)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    last_surveyed_at = NumberAttribute(null=True)
    last_survey_invitation = UnicodeAttribute(null=True)
    list_pk = UnicodeAttribute(null=True)
    delighted_id = UnicodeAttribute(null=True)  # the person's id in Delighted, when imported from its people
    by_id = ContactIdIndex()
    all_contacts = AllContactsIndex()
    by_delighted_id = ContactDelightedIdIndex()


class SuppressionListIndex(GlobalSecondaryIndex):
    """Sparse: the suppressed addresses an admin may look up by their beginning (one partition, sorted by
    address). Entries written before it, and a deleted person's, carry no `list_pk`: found by the whole
    address only."""

    Meta = _index_meta("suppression-list", AllProjection)
    list_pk = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(range_key=True)


class Suppression(Model):
    """Keyed by a hash of the address, so it can outlive a deleted contact. `email` is kept beside it for the
    admin's search, except for a deleted person (reason "deleted"), whose address is not kept."""

    TABLE = "suppressions"

    class Meta(_Meta):
        pass

    email_hash = UnicodeAttribute(hash_key=True)
    reason = UnicodeAttribute()
    source = UnicodeAttribute(null=True)
    campaign_id = UnicodeAttribute(null=True)
    created_at = NumberAttribute()
    email = UnicodeAttribute(null=True)
    list_pk = UnicodeAttribute(null=True)
    added_by = UnicodeAttribute(null=True)
    by_address = SuppressionListIndex()


class CampaignInvitationsIndex(GlobalSecondaryIndex):
    Meta = _index_meta("campaign-invitations", KeysOnlyProjection)
    campaign_id = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class EmailInvitationsIndex(GlobalSecondaryIndex):
    Meta = _index_meta("email-invitations", KeysOnlyProjection)
    email = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


class CampaignResponsesIndex(GlobalSecondaryIndex):
    """Sparse: only answered invitations carry `responded_campaign`."""

    Meta = _index_meta("campaign-responses", AllProjection)
    responded_campaign = UnicodeAttribute(hash_key=True)
    answered_at = NumberAttribute(range_key=True)


class AckDueIndex(GlobalSecondaryIndex):
    """Sparse: only responses still waiting for their acknowledgement carry `ack_pk`."""

    Meta = _index_meta("ack-due", KeysOnlyProjection)
    ack_pk = UnicodeAttribute(hash_key=True)
    ack_due_at = NumberAttribute(range_key=True)


class SendDueIndex(GlobalSecondaryIndex):
    """Sparse: invitations (or reminders) waiting to be sent carry `send_pk`."""

    Meta = _index_meta("send-due", KeysOnlyProjection)
    send_pk = UnicodeAttribute(hash_key=True)
    send_due_at = NumberAttribute(range_key=True)


class OpenCasesIndex(GlobalSecondaryIndex):
    """Sparse: alerted detractors still waiting for a personal contact carry `case_campaign`."""

    Meta = _index_meta("open-cases", AllProjection)
    case_campaign = UnicodeAttribute(hash_key=True)
    case_due_at = NumberAttribute(range_key=True)


class CountPendingIndex(GlobalSecondaryIndex):
    """Sparse: invitations whose latest change is not yet in the counters carry `count_pk` (8 shards)."""

    Meta = _index_meta("count-pending", KeysOnlyProjection)
    count_pk = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class CampaignSkippedIndex(GlobalSecondaryIndex):
    """Sparse: invitations skipped at send time (suppressed, recently surveyed, ...) with the reason."""

    Meta = _index_meta("campaign-skipped", AllProjection)
    skipped_campaign = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class CampaignHeldIndex(GlobalSecondaryIndex):
    """Sparse: invitations with scanner activity waiting for a CX lead's decision carry `held_campaign`."""

    Meta = _index_meta("campaign-held", AllProjection)
    held_campaign = UnicodeAttribute(hash_key=True)
    held_at = NumberAttribute(range_key=True)


class Invitation(Model):
    """One recipient of one campaign, and their response: one response per invitation."""

    TABLE = "invitations"

    class Meta(_Meta):
        pass

    id = UnicodeAttribute(hash_key=True)
    campaign_id = UnicodeAttribute()
    email = UnicodeAttribute()
    properties = MapAttribute(default=dict)
    created_at = NumberAttribute()
    expires_at = NumberAttribute()
    round = NumberAttribute(default=0)
    import_id = UnicodeAttribute(null=True)
    # sending
    send_state = UnicodeAttribute(default="pending")
    send_pk = UnicodeAttribute(null=True)
    send_due_at = NumberAttribute(null=True)
    send_lease_until = NumberAttribute(null=True)
    send_attempts = NumberAttribute(default=0)
    send_error = UnicodeAttribute(null=True)
    sent_at = NumberAttribute(null=True)
    message_id = UnicodeAttribute(null=True)
    skipped_campaign = UnicodeAttribute(null=True)
    reminders_sent = NumberAttribute(default=0)
    reminder_lease_until = NumberAttribute(null=True)
    bounced_at = NumberAttribute(null=True)
    complained_at = NumberAttribute(null=True)
    unsubscribed_at = NumberAttribute(null=True)
    # scanners
    trap_at = NumberAttribute(null=True)
    trap_hits = NumberAttribute(default=0)
    filtered = NumberAttribute(default=0)
    last_filtered_at = NumberAttribute(null=True)
    filtered_answers = MapAttribute(null=True)
    # a person's answer held by a scanner window, until confirmed or replaced (docs/scanners.md):
    # {answers, comment, reason, evidence, at}, and the SHA-256 of its one-time confirm token
    held = MapAttribute(null=True)
    held_token = UnicodeAttribute(null=True)
    # ... listed for a CX lead (accept or dismiss) until decided or replaced by the person's own answer
    held_campaign = UnicodeAttribute(null=True)
    held_at = NumberAttribute(null=True)
    # the response
    answers = MapAttribute(null=True)
    comment = UnicodeAttribute(null=True)
    score = NumberAttribute(null=True)
    category = UnicodeAttribute(null=True)
    evidence = UnicodeAttribute(null=True)
    answered_at = NumberAttribute(null=True)
    updated_at = NumberAttribute(null=True)
    answer_version = NumberAttribute(default=0)
    responded_campaign = UnicodeAttribute(null=True)
    # counting: every counted change adds 1 to `rev` and sets `count_pk`; the applier moves the
    # counters by contribution(state) - counted and removes `count_pk` if `rev` is unchanged
    rev = NumberAttribute(default=0)
    count_pk = UnicodeAttribute(null=True)
    counted = MapAttribute(null=True)
    # closing the loop: the acknowledgement (due -> sending -> sent | skipped | failed)
    ack_pk = UnicodeAttribute(null=True)
    ack_due_at = NumberAttribute(null=True)
    ack_state = UnicodeAttribute(null=True)
    ack_lease_until = NumberAttribute(null=True)
    ack_attempts = NumberAttribute(default=0)
    ack_error = UnicodeAttribute(null=True)
    ack_sent_at = NumberAttribute(null=True)
    ack_message_id = UnicodeAttribute(null=True)
    ack_subject = UnicodeAttribute(null=True)
    # ... the loop (new -> acknowledged -> contacted -> resolved) and its history of notes
    loop_status = UnicodeAttribute(null=True)
    loop_history = ListAttribute(of=MapAttribute, null=True)
    contacted_at = NumberAttribute(null=True)
    resolved_at = NumberAttribute(null=True)
    # ... alerts and webhooks: the answer version last announced, and the case of an alerted answer
    event_version = NumberAttribute(null=True)
    alerted_at = NumberAttribute(null=True)
    case_campaign = UnicodeAttribute(null=True)
    case_due_at = NumberAttribute(null=True)
    case_opened_at = NumberAttribute(null=True)  # the answer version that opened the case: its clock starts there
    # deleting the person (chalicelib.privacy.deletion): marked, counted out by the applier, then deleted
    erased_at = NumberAttribute(null=True)
    # retention (chalicelib.privacy.retention): when the comment and properties were removed, and the removed
    # comment's themes, so the response counts as it did
    retained_at = NumberAttribute(null=True)
    comment_themes = ListAttribute(of=UnicodeAttribute, null=True)
    # history imported from another tool (chalicelib.delighted.history): where it came from, its id there,
    # its tags, and the answers to questions this campaign does not ask, as that tool gave them
    origin = UnicodeAttribute(null=True)
    origin_id = UnicodeAttribute(null=True)
    tags = ListAttribute(of=UnicodeAttribute, null=True)
    additional_answers = JSONAttribute(null=True)
    # ... Delighted's notes ({id, text, user_email, created_at}) and tags, set through the v1 API
    notes = ListAttribute(of=MapAttribute, null=True)

    by_campaign = CampaignInvitationsIndex()
    by_email = EmailInvitationsIndex()
    responses = CampaignResponsesIndex()
    ack_due = AckDueIndex()
    send_due = SendDueIndex()
    open_cases = OpenCasesIndex()
    skipped = CampaignSkippedIndex()
    count_pending = CountPendingIndex()
    held_answers = CampaignHeldIndex()


class Counter(Model):
    """Named integer counts per campaign, period and segment.

    The counts are dynamic attribute names (`promoters`, `q.nps.v9`, ...), which a fixed
    model cannot declare, so `chalicelib.store.counts` reads and updates them low-level.
    """

    TABLE = "counters"

    class Meta(_Meta):
        pass

    campaign_id = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)


class AllTokensIndex(GlobalSecondaryIndex):
    """Sparse: tokens minted since the dashboard lists them carry `list_pk`."""

    Meta = _index_meta("all-tokens", AllProjection)
    list_pk = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


class ApiToken(Model):
    TABLE = "api-tokens"

    class Meta(_Meta):
        pass

    token_hash = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    role = UnicodeAttribute(default="admin")
    created_at = NumberAttribute()
    created_by = UnicodeAttribute(null=True)
    list_pk = UnicodeAttribute(null=True)
    prefix = UnicodeAttribute(null=True)  # the token's first characters ("cl_y755"), to tell tokens apart; none before
    campaign_id = UnicodeAttribute(null=True)  # a v1 API key's (role "delighted") default campaign
    all_tokens = AllTokensIndex()


class DashboardUser(Model):
    """A person who may sign in to the dashboard. One partition for the whole team (a few dozen
    people at most), so the People page reads it with one strongly consistent Query."""

    TABLE = "dashboard-users"

    class Meta(_Meta):
        pass

    team = UnicodeAttribute(hash_key=True, default="team")
    email = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute(default="")
    role = UnicodeAttribute(default="viewer")
    created_at = NumberAttribute()
    updated_at = NumberAttribute()


class SignInLink(Model):
    """An emailed one-time sign-in link, keyed by the SHA-256 of its token (the token is never stored)."""

    TABLE = "sign-in-links"

    class Meta(_Meta):
        pass

    token_hash = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute()
    next_path = UnicodeAttribute(default="/dashboard")
    created_at = NumberAttribute()
    expires_at = NumberAttribute()
    used_at = NumberAttribute(null=True)
    expires = TTLAttribute()


class DashboardSession(Model):
    """A signed-in browser, keyed by the SHA-256 of the id its cookie carries; deleted at sign-out."""

    TABLE = "dashboard-sessions"

    class Meta(_Meta):
        pass

    id_hash = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute()
    created_at = NumberAttribute()
    last_seen = NumberAttribute()
    expires = TTLAttribute()
    spent_forms = UnicodeSetAttribute(null=True)  # nonces of one-time forms posted in this session (a new token)


class Member(Model):
    """A contact enrolled in a recurring campaign, asked again every `interval_days` until removed."""

    TABLE = "members"

    class Meta(_Meta):
        pass

    campaign_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(range_key=True)
    added_at = NumberAttribute()
    removed_at = NumberAttribute(null=True)


class RunningImportsIndex(GlobalSecondaryIndex):
    """Sparse: imports still running carry `running_campaign`, so a send can wait for them."""

    Meta = _index_meta("running-imports", KeysOnlyProjection)
    running_campaign = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


class ImportJob(Model):
    """One recipients import, processed in chunks through the work queue; each chunk counts once."""

    TABLE = "imports"

    class Meta(_Meta):
        pass

    id = UnicodeAttribute(hash_key=True)
    campaign_id = UnicodeAttribute()
    status = UnicodeAttribute(default="running")
    running_campaign = UnicodeAttribute(null=True)
    rows = NumberAttribute(default=0)
    accepted = NumberAttribute(default=0)
    duplicates = NumberAttribute(default=0)
    rejected = NumberAttribute(default=0)
    chunks_total = NumberAttribute(default=0)
    chunks_done = NumberAttribute(default=0)
    done_chunks = NumberSetAttribute(null=True)
    invited = NumberAttribute(default=0)
    already_invited = NumberAttribute(default=0)
    history_kind = UnicodeAttribute(null=True)  # a Delighted history file's kind (responses, people, ...)
    created_at = NumberAttribute()
    finished_at = NumberAttribute(null=True)
    rejected_pieces = NumberAttribute(default=0)
    running = RunningImportsIndex()


class ImportRejects(Model):
    """An import's rejected rows as the file had them, for the download to fix and upload again:
    zlib-compressed JSON pieces of at most REJECTS_PIECE_BYTES, apart from the ImportJob so the
    item every chunk updates stays small (a write is billed by the item's whole size)."""

    TABLE = "import-rejects"

    class Meta(_Meta):
        pass

    import_id = UnicodeAttribute(hash_key=True)
    piece = NumberAttribute(range_key=True)
    rows = BinaryAttribute(legacy_encoding=False)


class RateWindow(Model):
    """Calls of one token to one kind of bulk endpoint within one minute; expires on its own."""

    TABLE = "rate-limits"

    class Meta(_Meta):
        pass

    key = UnicodeAttribute(hash_key=True)
    calls = NumberAttribute(default=0)
    expires = TTLAttribute()


class RetryDueIndex(GlobalSecondaryIndex):
    """Sparse: deliveries waiting for their next attempt carry `retry_pk`."""

    Meta = _index_meta("retry-due", KeysOnlyProjection)
    retry_pk = UnicodeAttribute(hash_key=True)
    next_at = NumberAttribute(range_key=True)


class Delivery(Model):
    """The ledger of things sent at most once: one item per (what, to whom, which event or period).

    Alerts, webhooks and digests claim their key here before sending and mark it done after,
    so a schedule that fires twice or a redelivered message sends nothing twice.
    """

    TABLE = "deliveries"

    class Meta(_Meta):
        pass

    key = UnicodeAttribute(hash_key=True)
    state = UnicodeAttribute(default="sending")
    lease_until = NumberAttribute(null=True)
    attempts = NumberAttribute(default=0)
    last_error = UnicodeAttribute(null=True)
    retry_pk = UnicodeAttribute(null=True)
    next_at = NumberAttribute(null=True)
    payload = JSONAttribute(null=True)
    created_at = NumberAttribute()
    done_at = NumberAttribute(null=True)
    expires = TTLAttribute(null=True)
    retry_due = RetryDueIndex()


class DigestSubscription(Model):
    """Who receives a campaign's digest and how often: weekly (the default), daily, monthly, or stopped.

    `stopped_by` is "recipient" when the person stopped it through the link in a digest: an
    admin re-sending the recipient list does not start it again.
    """

    TABLE = "digest-subscriptions"

    class Meta(_Meta):
        pass

    campaign_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(range_key=True)
    frequency = UnicodeAttribute(default="weekly")
    stopped_by = UnicodeAttribute(null=True)
    changed_by = UnicodeAttribute(null=True)  # "admin" or "recipient": who set the frequency last
    created_at = NumberAttribute()
    updated_at = NumberAttribute()


class Deletion(Model):
    """A person deleted (chalicelib.privacy.deletion): who asked, when, and how many items each table lost;
    never the address."""

    TABLE = "deletions"

    class Meta(_Meta):
        pass

    id = UnicodeAttribute(hash_key=True)
    actor = UnicodeAttribute()
    created_at = NumberAttribute()
    found = NumberAttribute(default=1)  # 0: nothing was known about the address; only its hash was suppressed
    items = MapAttribute(default=dict)  # table name -> items removed or rewritten


MODELS: tuple[type[Model], ...] = (
    Campaign,
    Contact,
    Suppression,
    Invitation,
    Counter,
    ApiToken,
    Member,
    ImportJob,
    ImportRejects,
    RateWindow,
    Delivery,
    DigestSubscription,
    DashboardUser,
    SignInLink,
    DashboardSession,
    Deletion,
)


_lock = threading.Lock()
_bound: tuple | None = None
_client: Any = None


def _shared_client(connection: Connection) -> Any:
    global _client
    with _lock:
        if _client is None:
            _client = aws.build(lambda session: _built_from(connection, session))
        return _client


def _built_from(connection: Connection, session: Any) -> Any:
    """PynamoDB's client (its retries, timeouts and endpoint) from the process's one botocore session."""
    connection._local.session = session
    client = connection.client
    for operation in ("Query", "Scan"):
        client.meta.events.register(f"before-parameter-build.dynamodb.{operation}", _refuse_foreign_key)
        client.meta.events.register(f"after-call.dynamodb.{operation}", _refuse_foreign_start)
    return client


# A page link's cursor is signed and says which list and filters it is for (admin.api.decode_cursor), so a
# foreign one is refused before any request. This is the second line, wherever a list is paged: a start
# key that is no start for this query is a CursorRefused (400) naming the cursor, not a 500. Two checks:
# the key's attributes before the request (DynamoDB Local fails with a 500 of its own on another table's
# or index's key), DynamoDB's refusal after it (another partition, or a range the key is outside of).


def _refuse_foreign_key(params: dict, **_: Any) -> None:
    start = params.get("ExclusiveStartKey")
    expected = _key_types(params.get("TableName"), params.get("IndexName")) if start is not None else None
    if expected is not None and {name: next(iter(value), None) for name, value in start.items()} != expected:
        raise CursorRefused("cursor")


def _refuse_foreign_start(http_response: Any, parsed: dict, **_: Any) -> None:
    error = parsed.get("Error", {}) if http_response.status_code >= 400 else {}
    message = str(error.get("Message", "")).lower()
    if error.get("Code") == "ValidationException" and ("starting key" in message or "exclusive start key" in message):
        raise CursorRefused("cursor")


def _key_types(table: str | None, index: str | None) -> dict[str, str] | None:
    """The attributes of a start key of a Query or Scan on this table (and index), the table's keys and the
    index's, each with its DynamoDB type ("S", "N" or "B"); None for a table or index no model declares."""
    model = next((m for m in MODELS if m.Meta.table_name == table), None)
    if model is None or (index and index not in model._indexes):
        return None
    keys = [a for a in model.get_attributes().values() if a.is_hash_key or a.is_range_key]
    if index:
        keys += [a for a in model._indexes[index].Meta.attributes.values() if a.is_hash_key or a.is_range_key]
    return {a.attr_name: a.attr_type for a in keys}


def bind(settings: Settings | None = None) -> tuple[str, str | None, str]:
    """Point every model at the tables the settings name; returns (table prefix, endpoint, region)."""
    global _bound, _client
    prefix, endpoint, region = (
        (settings.table_prefix, settings.dynamodb_endpoint, settings.region) if settings else store_location()
    )
    key = (prefix, endpoint, region, os.environ.get("AWS_ACCESS_KEY_ID"))
    if key != _bound:
        with _lock:
            for model in MODELS:
                model.Meta.table_name = prefix + model.TABLE
                model.Meta.host = endpoint
                model.Meta.region = region
                model._connection = None
            _client = None
            _bound = key
    return prefix, endpoint, region
