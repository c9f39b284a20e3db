"""Storing Delighted's exported history in a campaign: `import-delighted` and POST .../imports/delighted.

What chalicelib.delighted.history accepted is written in chunks of 500 rows, each chunk with one
BatchGetItem of what is there already and transactions of up to 100 new items, so a year of responses
takes seconds. Each file is one import (ImportJob) like a recipients import: its report, progress and
rejected rows' download are the same.

- Unsubscribes and bounces are written first, as suppressions (source `import`, their original time):
  a send that starts while the rest is imported skips them already.
- People become contacts (created with their Delighted `created_at`, properties merged into a contact
  that exists).
- A response becomes an invitation of the campaign with its answer, whose id comes from the campaign
  and the Delighted response id (history.history_id): importing the same file again adds nothing. Its
  times are the original ones (invited, sent and answered when Delighted's response was created, edited
  at its updated_at), so the counters, trends, segments and digests place it in its own week. It is
  written with a new revision for the counting applier (chalicelib.answers.counting), which counts it
  exactly once, as it counts an answer given today; `rebuild-counters` recomputes the same numbers.
- An imported response is old news: it is written with its acknowledgement skipped (`ack_state`
  skipped, never in the ack-due index), its answer version already announced (`event_version`, so the
  applier sends no alert and no webhook for it), and its loop resolved, Delighted's notes first in its
  history. `origin` marks it `delighted` and keeps the Delighted id, its tags, and the answers to
  questions the campaign does not ask.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from chalicelib.admin import api, ratelimit
from chalicelib.admin.auth import Caller
from chalicelib.answers import counting
from chalicelib.campaigns import campaigns, contacts, suppression
from chalicelib.campaigns.campaigns import CampaignView
from chalicelib.core.config import Settings, get_settings
from chalicelib.core.errors import PayloadTooLarge, ValidationError
from chalicelib.core.signing import new_id
from chalicelib.delighted import history
from chalicelib.sending import imports
from chalicelib.store import bind, count_pending
from chalicelib.store.models import Contact, ImportJob, Invitation
from chalicelib.store.transact import ConditionFailed, put_new_all, update

CHUNK = 500
TRANSACTION = 100
DAY = 86400
# What a request can store within API Gateway's 29 seconds; larger files go through the CLI.
API_MAX_ROWS = 2000
ORDER = ("unsubscribes", "bounces", "people", "responses")
EVIDENCE = "imported"
ACK_SKIPPED = "imported: answered in Delighted before the move, never acknowledged from here"
CLOSED = "Imported from Delighted: answered before the move, closed without a follow-up from here."
Progress = Callable[[str], None]


def plural(n: int, word: str) -> str:
    """`n` and an English noun for the operator's progress lines: "1 row", "1,200 rows"."""
    return f"{n:,} {word if n == 1 else word + 's'}"


@dataclass(frozen=True)
class Upload:
    """One file to import: its name (for the progress and the report) and its decoded text."""

    name: str
    text: str


def import_files(
    campaign_id: str,
    uploads: Sequence[Upload],
    now: float,
    by: str,
    kind: str | None = None,
    progress: Progress | None = None,
    max_rows: int | None = None,
) -> list[dict]:
    """Import exported files into a campaign; one report per file (imports.status, with `kind`, `file` and
    every rejected row), in the order they are stored: unsubscribes and bounces, people, responses.

    Raises NotFound (no such campaign), ValidationError (a cancelled campaign, a campaign without a scale
    question for the scores, a file that cannot be read, more than `max_rows` rows) before anything
    is written.
    """
    campaign = campaigns.get_view(campaign_id)
    if campaign.status == "cancelled":
        raise ValidationError("This campaign is cancelled.", "status")
    settings = get_settings()
    files = [_read(u, campaign, now, kind, named=len(uploads) > 1) for u in uploads]
    people = {p.delighted_id: p.email for f in files if f.kind == "people" for p in f.accepted if p.delighted_id}
    unknown = set().union(*(f.unknown_people for f in files)) - people.keys()
    people = {**imported_people(unknown), **people}
    if people:  # responses naming their person by id only: read again with the addresses found
        files = [
            history.read(u.name, u.text, campaign, now, f.kind, people) if f.unknown_people & people.keys() else f
            for u, f in zip(uploads, files, strict=True)
        ]
    if any(f.kind == "responses" for f in files):
        history.scored_question(campaign)
    if max_rows is not None and sum(f.rows for f in files) > max_rows:
        raise ValidationError(
            f"At most {max_rows:,} rows per request: split the file, or use `python -m chalicelib.cli "
            "import-delighted`.",
            "file",
        )
    files.sort(key=lambda f: ORDER.index(f.kind))
    return [_store(campaign, f, now, settings, by, progress or (lambda _: None)) for f in files]


def _read(upload: Upload, campaign: CampaignView, now: float, kind: str | None, named: bool) -> history.ExportFile:
    """history.read, a refusal naming the file when the command was given several."""
    try:
        return history.read(upload.name, upload.text, campaign, now, kind)
    except ValidationError as exc:
        if not named:
            raise
        raise ValidationError(f"{upload.name}: {exc.message}", exc.field) from None


def imported_people(ids: set[str]) -> dict[str, str]:
    """{Delighted person id: address} of the contacts an earlier import of Delighted's people created or
    updated (their `delighted_id`, the sparse contact-delighted-id index): one Query each, WRITERS at a time."""
    if not ids:
        return {}
    bind()

    def find(person: str) -> tuple[str, str | None]:
        found = next(iter(Contact.by_delighted_id.query(person, limit=1)), None)
        return person, found.email if found else None

    with ThreadPoolExecutor(imports.WRITERS) as pool:
        return {person: email for person, email in pool.map(find, sorted(ids)) if email}


def _store(campaign: CampaignView, file: history.ExportFile, now: float, settings: Settings, by: str, progress) -> dict:
    bind()
    import_id = new_id()
    chunks = [file.accepted[i : i + CHUNK] for i in range(0, len(file.accepted), CHUNK)]
    job = ImportJob(
        import_id,
        campaign_id=campaign.id,
        status="running" if chunks else "done",
        rows=file.rows,
        accepted=len(file.accepted),
        duplicates=file.duplicates,
        rejected=len(file.rejected),
        chunks_total=len(chunks),
        created_at=now,
        finished_at=None if chunks else now,
        rejected_pieces=imports.keep_rejected(import_id, file.rejected, file.original),
        history_kind=file.kind,
    )
    job.save()
    stored = already = 0
    for index, chunk in enumerate(chunks):
        if file.kind == "responses":
            new = _responses(campaign, chunk, import_id, now, settings)
        elif file.kind == "people":
            new = _people(chunk, now)
        else:
            new = sum(suppression.suppress(s.email, s.reason, s.at, "import", campaign.id, by) for s in chunk)
        stored, already = stored + new, already + len(chunk) - new
        update(
            ImportJob,
            import_id,
            [
                ImportJob.done_chunks.add({index}),
                ImportJob.chunks_done.add(1),
                ImportJob.invited.add(new),
                ImportJob.already_invited.add(len(chunk) - new),
            ],
        )
        done = min(len(file.accepted), (index + 1) * CHUNK)
        progress(
            f"{file.name}: {file.kind} {done:,}/{len(file.accepted):,} stored "
            f"({stored:,} new, {already:,} already imported, {plural(len(file.rejected), 'row')} rejected)"
        )
    if chunks:
        update(ImportJob, import_id, [ImportJob.status.set("done"), ImportJob.finished_at.set(now)])
    report = imports.status(import_id)
    return {**report, "kind": file.kind, "file": file.name, "rejected_rows": [r.to_json() for r in file.rejected]}


def _responses(
    campaign: CampaignView, chunk: list[history.Response], import_id: str, now: float, settings: Settings
) -> int:
    """Store the responses not stored yet; how many were new."""
    ids = [history.history_id(campaign.id, r.delighted_id) for r in chunk]
    there = {item.id for item in Invitation.batch_get(ids, attributes_to_get=["id"])}
    fresh = [(r, i) for r, i in zip(chunk, ids, strict=True) if i not in there]
    newest: dict[str, tuple[dict, float]] = {}
    for r, _ in sorted(fresh, key=lambda pair: pair[0].created_at):
        first = newest.get(r.email, ({}, r.created_at))[1]
        newest[r.email] = (r.properties, first)
    _new_contacts(newest, now)
    if chunk:
        campaigns.backdate_first_send(campaign.id, min(r.created_at for r in chunk))
    items = [_invitation(campaign, r, ident, import_id, now, settings) for r, ident in fresh]
    written = sum(
        written for i in range(0, len(items), TRANSACTION) for written in put_new_all(items[i : i + TRANSACTION])
    )
    surveyed: dict[str, float] = {}
    for r in chunk:
        surveyed[r.email] = max(surveyed.get(r.email, 0.0), r.created_at)
    _surveyed(surveyed, now)
    return written


def _invitation(
    campaign: CampaignView, r: history.Response, ident: str, import_id: str, now: float, settings: Settings
) -> Invitation:
    closed = {"at": now, "status": "resolved", "note": CLOSED, "by": f"{history.ORIGIN} import"}
    notes = [{**note, "status": "acknowledged"} for note in r.notes]
    return Invitation(
        ident,
        campaign_id=campaign.id,
        email=r.email,
        properties=r.properties,
        created_at=r.created_at,
        expires_at=int(r.created_at + settings.invitation_ttl_days * DAY),
        import_id=import_id,
        send_state="sent",
        sent_at=r.created_at,
        answers=r.answers,
        comment=r.comment,
        score=r.score,
        category=r.category,
        evidence=EVIDENCE,
        answered_at=r.created_at,
        updated_at=r.updated_at,
        answer_version=1,
        event_version=1,
        responded_campaign=campaign.id,
        rev=1,
        count_pk=count_pending.shard(ident),
        ack_state="skipped",
        ack_error=ACK_SKIPPED,
        loop_status="resolved",
        loop_history=[*notes, closed],
        origin=history.ORIGIN,
        origin_id=r.delighted_id,
        tags=r.tags or None,
        additional_answers=r.additional or None,
        notes=[  # as the v1 API shows notes (expand[]=notes), beside the loop history's copy
            {
                "id": f"{r.delighted_id or ident}-{n}",
                "text": note["note"],
                "user_email": note["by"],
                "created_at": note["at"],
            }
            for n, note in enumerate(r.notes)
        ]
        or None,
    )


def _new_contacts(
    found: dict[str, tuple[dict, float]], now: float, delighted_ids: dict[str, str] | None = None
) -> set[str]:
    """Create the contacts that do not exist yet ({email: (properties, created_at)}, with their Delighted
    person id when known); the addresses created."""
    there = {c.email for c in Contact.batch_get(list(found), attributes_to_get=["email"])} if found else set()
    fresh = [
        Contact(
            email,
            id=new_id(),
            properties=props,
            created_at=min(created, now),
            updated_at=now,
            list_pk=contacts.LIST_PK,
            delighted_id=(delighted_ids or {}).get(email),
        )
        for email, (props, created) in found.items()
        if email not in there
    ]
    written = [ok for i in range(0, len(fresh), TRANSACTION) for ok in put_new_all(fresh[i : i + TRANSACTION])]
    return {contact.email for contact, ok in zip(fresh, written, strict=True) if ok}


def _people(chunk: list[history.Person], now: float) -> int:
    """Create each person's contact, or merge their properties into the one there; how many were new. Each
    keeps its Delighted person id, which responses naming their person by id only are matched by later."""
    ids = {p.email: p.delighted_id for p in chunk if p.delighted_id}
    created = _new_contacts({p.email: (p.properties, p.created_at) for p in chunk}, now, ids)
    for person in chunk:
        if person.email not in created and person.properties:
            contacts.upsert(contacts.Recipient(person.email, person.properties), now)
        if person.email not in created and person.delighted_id:
            try:
                update(Contact, person.email, [Contact.delighted_id.set(person.delighted_id)], Contact.email.exists())
            except ConditionFailed:  # deleted meanwhile (docs/privacy.md): not made again for an id
                continue
    _surveyed({p.email: p.last_sent_at for p in chunk if p.last_sent_at is not None}, now)
    return len(created)


def _surveyed(last: dict[str, float], now: float) -> None:
    """Start each person's fatigue window (contacts.claim_survey) where Delighted last surveyed them
    ({email: epoch seconds}), so a campaign sent right after the move does not ask them again within it.
    Only forward: a later survey already on the contact stays. One conditional write per person."""
    for email, at in last.items():
        at = min(at, now)
        try:
            update(
                Contact,
                email,
                [Contact.last_surveyed_at.set(at)],
                Contact.email.exists() & (Contact.last_surveyed_at.does_not_exist() | (Contact.last_surveyed_at < at)),
            )
        except ConditionFailed:
            continue


def import_request(
    campaign_id: str, content_type: str, raw: bytes | None, query: dict[str, str], now: float, caller: Caller
) -> tuple[int, dict]:
    """POST /api/campaigns/{id}/imports/delighted: one exported file as a `text/csv` or `application/json`
    body or a multipart upload (field `file`), its kind told by its columns or given as `?kind=`. 201 with
    the import's report; at most API_MAX_ROWS rows (the CLI takes more)."""
    campaigns.get_view(campaign_id)
    if len(raw or b"") > api.MAX_IMPORT_BYTES:
        raise PayloadTooLarge(api.IMPORT_TOO_LARGE, "file")
    ratelimit.check(caller.key, "import", now)
    kind = query.get("kind") or None
    if kind is not None and kind not in history.KINDS:
        raise ValidationError(f"kind is one of {', '.join(history.KINDS)}.", "kind")
    text = api.uploaded_text(content_type, raw)
    (report,) = import_files(campaign_id, [Upload("upload", text)], now, caller.name, kind, max_rows=API_MAX_ROWS)
    return 201, {"import": report}


def count_all(progress: Progress) -> int:
    """Run the counting applier until nothing is pending, as its schedule would within minutes (the CLI
    shows the trends at once); how many invitations it counted."""
    total = 0
    while sum((outcome := counting.apply_pending()).values()):
        total += outcome["applied"]
        progress(f"counted {plural(total, 'invitation')}")
    return total


def read_files(paths: Iterable[str]) -> list[Upload]:
    """The files named on the command line, decoded as uploads are (imports.decode_csv)."""
    uploads = []
    for path in paths:
        with open(path, "rb") as handle:
            uploads.append(Upload(path, imports.decode_csv(handle.read(), None)))
    return uploads
