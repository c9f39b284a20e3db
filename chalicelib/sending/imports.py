"""Importing recipients: JSON rows or a CSV file, every row validated and every rejection explained.

Validation and duplicate merging happen at once, in memory, so the answer reports every
rejected row exactly. Writing contacts and invitations happens in chunks of 500: inline for
small imports, through the work queue for large ones (100,000 rows never meet a Lambda
timeout). Each chunk is counted once even when the queue delivers it twice, and a campaign
does not start sending while one of its imports is still running.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from chalicelib.campaigns import campaigns, contacts
from chalicelib.campaigns.campaigns import CampaignView
from chalicelib.core import schedule
from chalicelib.core.config import Settings
from chalicelib.core.errors import ValidationError
from chalicelib.core.signing import new_id
from chalicelib.queue import WorkQueue
from chalicelib.sending import invitations
from chalicelib.store import bind
from chalicelib.store.models import ImportJob, Member
from chalicelib.store.transact import ConditionFailed, put_new, update

CHUNK = 500
MAX_ROWS = 100_000
MAX_CELL = 500


def parse_csv(text: str) -> list[tuple[int, Any]]:
    """Rows as (spreadsheet row number, {email, properties}); the header row is row 1.

    An `email` column is required (any case); every other column becomes a property, empty
    cells are left out. Rows with more cells than the header are passed on as they are, so
    the validation reports them like any other bad row.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError("The CSV file is empty: it needs a header row with an email column.", "file") from None
    except csv.Error as exc:
        raise ValidationError(f"The CSV header cannot be read: {exc}.", "file") from None
    names = [h.strip() for h in header]
    lowered = [n.lower() for n in names]
    if "email" not in lowered:
        raise ValidationError("The CSV header needs an `email` column.", "file")
    email_at = lowered.index("email")
    rows: list[tuple[int, Any]] = []
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise ValidationError(f"At most {MAX_ROWS:,} rows per import; split the file.", "file")
            if len(cells) > len(names):
                rows.append((number, f"has {len(cells)} cells but the header has {len(names)}"))
                continue
            props = {
                names[i]: cell.strip() for i, cell in enumerate(cells) if i != email_at and names[i] and cell.strip()
            }
            rows.append((number, {"email": cells[email_at] if email_at < len(cells) else "", "properties": props}))
    except csv.Error as exc:
        raise ValidationError(f"The CSV file cannot be read after row {len(rows) + 1}: {exc}.", "file") from None
    return rows


def parse_json(items: Any) -> list[tuple[int, Any]]:
    if not isinstance(items, list):
        raise ValidationError("recipients is a list of {email, properties} objects.", "recipients")
    if len(items) > MAX_ROWS:
        raise ValidationError(f"At most {MAX_ROWS:,} recipients per import.", "recipients")
    return list(enumerate(items))


def validate(rows: Iterable[tuple[int, Any]], path: str) -> contacts.RecipientBatch:
    """Recipients merged by address; rows that are not objects (bad CSV rows) rejected with their reason."""
    good, bad = [], []
    for number, item in rows:
        if isinstance(item, str):
            bad.append(contacts.Rejection(number, f"{path}[{number}]", f"Row {number} {item}."))
        else:
            good.append((number, item))
    batch = contacts.parse_recipients(good, path)
    batch.rejected = sorted(bad + batch.rejected, key=lambda r: r.row)
    return batch


def start(
    campaign: CampaignView, rows: list[tuple[int, Any]], path: str, now: float, settings: Settings, queue: WorkQueue
) -> dict:
    """Validate every row, then write in chunks: inline when small, through the queue when large."""
    batch = validate(rows, path)
    chunks = [batch.recipients[i : i + CHUNK] for i in range(0, len(batch.recipients), CHUNK)]
    bind()
    job = ImportJob(
        new_id(),
        campaign_id=campaign.id,
        running_campaign=campaign.id if chunks else None,
        status="running" if chunks else "done",
        rows=len(rows),
        accepted=len(batch.recipients),
        duplicates=batch.duplicates,
        rejected=len(batch.rejected),
        chunks_total=len(chunks),
        created_at=now,
        finished_at=None if chunks else now,
    )
    job.save()
    if len(chunks) == 1:
        process_chunk(job.id, 0, chunks[0], now, settings, queue)
    elif chunks:
        queue.send(
            [
                {
                    "kind": "import",
                    "import_id": job.id,
                    "chunk": i,
                    "recipients": [{"email": r.email, "properties": r.properties} for r in chunk],
                }
                for i, chunk in enumerate(chunks)
            ]
        )
    report = status(job.id)
    report["rejected_rows"] = [r.to_json() for r in batch.rejected]
    return report


def process_chunk(
    import_id: str, index: int, recipients: list[contacts.Recipient], now: float, settings: Settings, queue: WorkQueue
) -> str:
    """Write contacts and invitations for one chunk; idempotent, counted once."""
    job = ImportJob.get(import_id, consistent_read=True)
    if job.done_chunks and index in job.done_chunks:
        return "already done"
    campaign = campaigns.get_view(job.campaign_id)
    recurring = campaign.kind == "recurring"
    active = campaign.status in campaigns.ACTIVE
    invited, already, created = 0, 0, []
    for recipient in recipients:
        contacts.upsert(recipient, now)
        due = None
        if recurring:
            _enrol(campaign.id, recipient.email, now)
            if active:
                zone = schedule.valid_timezone(recipient.properties.get("timezone")) or campaign.timezone
                due = schedule.weekday_morning(now, zone, recipient.email)
        invitation = invitations.new_invitation(campaign, recipient, now, settings, due_at=due, import_id=import_id)
        outcome = invitations.create(invitation)
        if outcome == "existing":
            already += 1
            continue
        invited += 1
        created.append(invitation.id)
    if active and not recurring and created:
        queue.send(
            [
                {"kind": "send", "campaign_id": campaign.id, "ids": created[i : i + 50]}
                for i in range(0, len(created), 50)
            ]
        )
    try:
        raw = update(
            ImportJob,
            import_id,
            [
                ImportJob.done_chunks.add({index}),
                ImportJob.chunks_done.add(1),
                ImportJob.invited.add(invited),
                ImportJob.already_invited.add(already),
            ],
            ImportJob.done_chunks.does_not_exist() | ~ImportJob.done_chunks.contains(index),
        )
    except ConditionFailed:
        return "already done"
    if int(raw["chunks_done"]["N"]) >= int(raw["chunks_total"]["N"]):
        update(
            ImportJob,
            import_id,
            [ImportJob.status.set("done"), ImportJob.finished_at.set(now), ImportJob.running_campaign.remove()],
        )
    return f"{invited} invited, {already} already invited"


def _enrol(campaign_id: str, email: str, now: float) -> None:
    """Recurring campaigns keep a member list: asked again every N days until removed."""
    if put_new(Member(campaign_id, email, added_at=now)) is not None:
        update(Member, campaign_id, [Member.removed_at.remove()], range_key=email)


def status(import_id: str) -> dict:
    bind()
    job = ImportJob.get(import_id, consistent_read=True)
    return {
        "id": job.id,
        "campaign_id": job.campaign_id,
        "status": job.status,
        "rows": job.rows,
        "accepted": job.accepted,
        "duplicates_merged": job.duplicates,
        "rejected": job.rejected,
        "invited": job.invited,
        "already_invited": job.already_invited,
        "chunks": {"done": job.chunks_done, "total": job.chunks_total},
    }
