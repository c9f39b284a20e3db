"""Operational commands: `python -m chalicelib.cli --help`.

Each command imports what it runs inside its function: a command is a fresh process, and
`--help` or `create-tables` should not load the whole app (tests/test_architecture.py lists
these lazy imports).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import click
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    HTTPClientError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from chalicelib.core.config import get_settings, store_location, store_problem
from chalicelib.core.errors import CloseloopError
from chalicelib.core.headers import header_problem
from chalicelib.core.i18n import LANGUAGES
from chalicelib.store.models import MODELS


class _Commands(click.Group):
    """Every command's refusal as a message and exit code 1, never a traceback: our errors say what to
    fix, a file that cannot be written says why, an AWS endpoint that cannot be reached says which and why,
    and missing AWS credentials say where they come from; anything else is one line naming the exception
    (CLOSELOOP_DEBUG=1 lets its traceback through)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except CloseloopError as exc:
            raise click.ClickException(exc.message) from None
        except Exception as exc:
            unreachable = _unreachable(exc) or _not_dynamodb(exc) or _no_tables(exc)
            if unreachable is not None:
                raise click.ClickException(unreachable) from None
            if isinstance(exc, OSError):
                raise click.ClickException(str(exc)) from None
            if any(isinstance(link, NoCredentialsError) for link in _causes(exc)):
                raise click.ClickException(
                    'No AWS credentials: locally, run `eval "$(python -m localdev env)"` first (make run prints '
                    "it); on AWS, use a profile or role that may call the stack's tables."
                ) from None
            if isinstance(exc, click.ClickException | click.exceptions.Exit | click.exceptions.Abort):
                raise
            if os.environ.get("CLOSELOOP_DEBUG"):
                raise
            raise click.ClickException(
                f"unexpected {type(exc).__name__}: {str(exc)[:300]} (CLOSELOOP_DEBUG=1 shows the traceback)"
            ) from None


SERVICES = {"dynamodb": "DynamoDB", "email": "SES", "sqs": "SQS", "ssm": "SSM"}
"""The AWS services the commands call, by the first label of their endpoint's host name."""
TIMEOUTS: dict[type, str] = {
    ConnectTimeoutError: "no connection within the connect timeout",
    ReadTimeoutError: "no answer within the read timeout",
    ConnectionClosedError: "the connection was closed before an answer",
}
"""Why, for the failures that carry no OS error."""


def _causes(exc: BaseException | None) -> Iterator[BaseException]:
    """The exception and what caused it, also as PynamoDB wraps botocore's (its `cause`)."""
    seen = 0
    while exc is not None and seen < 10:
        yield exc
        exc, seen = getattr(exc, "cause", None) or exc.__cause__ or exc.__context__, seen + 1


def _unreachable(exc: BaseException) -> str | None:
    """The one line for a connection to an AWS endpoint that failed after botocore's retries (refused, timed
    out, closed, no such host): "cannot reach DynamoDB at <endpoint>: <reason>"; None for any other error."""
    failed = next((e for e in _causes(exc) if isinstance(e, BotoConnectionError | HTTPClientError)), None)
    if failed is None:
        return None
    endpoint = str(failed.kwargs.get("endpoint_url") or failed.kwargs.get("proxy_url") or "").rstrip("/")
    host = urlsplit(endpoint).hostname or ""
    local = store_location()[1]
    service = "DynamoDB" if local and endpoint == local.rstrip("/") else SERVICES.get(host.split(".")[0], "AWS")
    error = failed.kwargs.get("error")
    reasons = [e.strerror for e in _causes(error) if isinstance(e, OSError) and e.strerror]
    reason = reasons[-1] if reasons else TIMEOUTS.get(type(failed), str(failed))
    return f"cannot reach {service} at {endpoint or 'its endpoint'}: {reason}"


def _not_dynamodb(exc: BaseException) -> str | None:
    """The local endpoint answered HTTP without a DynamoDB error code (another server on that port): which
    status, and where; None for any other error."""
    endpoint = store_location()[1]
    failed = next((e for e in _causes(exc) if isinstance(e, ClientError)), None)
    code = str(failed.response.get("Error", {}).get("Code", "")) if failed is not None else ""
    if not endpoint or not code.isdigit():
        return None
    return f"cannot reach DynamoDB at {endpoint.rstrip('/')}: it answered HTTP {code}, as DynamoDB never does"


def _no_tables(exc: BaseException) -> str | None:
    """DynamoDB answered that a table does not exist (tables not created yet, or another prefix or region):
    which prefix and where, and how to create them; None for any other error."""
    failed = next((e for e in _causes(exc) if isinstance(e, ClientError)), None)
    if failed is None or failed.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
        return None
    prefix, endpoint, region = store_location()
    where = endpoint.rstrip("/") if endpoint else f"AWS region {region}"
    return (
        f"a table of the prefix “{prefix}” does not exist at {where}: create them with "
        "`python -m chalicelib.cli create-tables` (make run does), or set CLOSELOOP_TABLE_PREFIX to theirs"
    )


@click.group(cls=_Commands)
def cli() -> None:
    """Closeloop operations, against the tables and endpoint the CLOSELOOP_* settings name."""
    problem = store_problem(max(len(model.TABLE) for model in MODELS))
    if problem:
        raise click.ClickException(problem)


@cli.command("create-tables")
def create_tables() -> None:
    """Create missing tables and indexes (idempotent)."""
    from chalicelib.store.tables import create_tables as create  # lazy, for cold start: only this command needs it

    settings = get_settings()
    where = settings.dynamodb_endpoint or f"AWS {settings.region}"
    click.echo(f"tables with prefix {settings.table_prefix!r} on {where}")
    create(click.echo)


@cli.command("seed-demo")
@click.option("--send/--no-send", default=True, help="Send the invitations now (into the outbox locally).")
def seed_demo(send: bool) -> None:
    """Create the demo campaign and send its invitations; does nothing if it exists."""
    from chalicelib.runtime.demo import seed  # lazy, for cold start: only this command needs it

    result = seed(time.time(), send)
    if result is None:
        click.echo("demo campaign already exists: nothing to do")
    else:
        click.echo(f"demo campaign created: {json.dumps(result)}")


@cli.command("run-job")
@click.argument("name")
def run_job(name: str) -> None:
    """Run one scheduled function once, now (e.g. dispatch_due, apply_counts)."""
    from chalicelib.runtime.jobs import find_job  # lazy, for cold start: only this command needs it

    try:
        job = find_job(name)
    except KeyError as exc:
        raise click.ClickException(str(exc.args[0])) from None
    started = time.perf_counter()
    result = job.run()
    click.echo(f"{job.name}: {json.dumps(result, default=str)} in {time.perf_counter() - started:.2f}s")


@cli.command("mint-token")
@click.option("--name", required=True, help="Who the token is for, e.g. a CX lead's email.")
def mint_token(name: str) -> None:
    """Create an admin API token; it is shown once and stored only as a hash."""
    from chalicelib.admin.auth import mint_token, prefix_of  # lazy, for cold start: only this command needs it

    token = mint_token(_named(name), time.time())
    click.echo(token)
    click.echo(f"listed as {prefix_of(token)}… on the dashboard's API tokens page", err=True)


@cli.command("mint-api-key")
@click.option("--name", required=True, help="Who or which app the key is for.")
@click.option("--campaign", "campaign_id", required=True, help="The campaign people posted with it are surveyed in.")
def mint_api_key(name: str, campaign_id: str) -> None:
    """Create a key for the Delighted-compatible v1 API; it is shown once and stored only as a hash."""
    from chalicelib.delighted import keys  # lazy, for cold start: only this command needs it

    try:
        key, digest = keys.mint_key(_named(name), campaign_id, time.time())
    except CloseloopError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(key)
    click.echo(f"revoke it with: python -m chalicelib.cli revoke-api-key {digest}", err=True)


def _named(name: str) -> str:
    """A token's or key's name, as the lists and audit lines show it: 1-120 characters of one line."""
    name = name.strip()
    problem = header_problem(name)
    if not name or len(name) > 120 or problem:
        raise click.BadParameter(
            "give who it is for in 1 to 120 characters of one line"
            + (f" (this one holds {problem})" if problem else ""),
            param_hint="--name",
        )
    return name


@cli.command("revoke-api-key")
@click.argument("key_or_hash")
def revoke_api_key(key_or_hash: str) -> None:
    """Revoke a v1 API key, given itself or the hash printed when it was minted."""
    from chalicelib.delighted import keys  # lazy, for cold start: only this command needs it

    if not keys.revoke_key(key_or_hash):
        raise click.ClickException("No such v1 API key.")
    click.echo("revoked")


@cli.command("add-user")
@click.option("--email", required=True, help="The address their sign-in links go to.")
@click.option(
    "--role", type=click.Choice(["admin", "viewer"]), required=True, help="admin changes things; viewer reads."
)
@click.option("--name", default="", help="How the dashboard names them.")
def add_user(email: str, role: str, name: str) -> None:
    """Let someone sign in to the dashboard (the first admin comes from here; admins add the others there)."""
    from chalicelib.dashboard import people  # lazy, for cold start: only this command needs it

    try:
        person = people.add_person(email, name, role, time.time())
    except CloseloopError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"{person.email} may sign in as {person.role}: {get_settings().base_url}/dashboard/sign-in")


@cli.command("rebuild-counters")
@click.option("--campaign", "campaign_id", help="One campaign's id; every campaign when left out.")
@click.option("--fix", "repair", is_flag=True, help="Repair the differences found (safe while the app runs).")
def rebuild_counters(campaign_id: str | None, repair: bool) -> None:
    """Recompute counter items from the invitations and report every difference (exit code 1 when some remain)."""
    from chalicelib.insight.rebuild import rebuild  # lazy, for cold start: only this command needs it

    if campaign_id is not None and not campaign_id.strip():
        raise click.BadParameter(
            "is empty: give a campaign's id, or leave it out for every campaign", param_hint="--campaign"
        )
    reports = rebuild(campaign_id, repair, click.echo)
    if any((r.differences or r.moved) and not r.fixed for r in reports):
        raise SystemExit(1)


@cli.command("backfill-contact-list")
@click.option("--after", help="The address the last progress line named: resume the scan past it.")
def backfill_contact_list(after: str | None) -> None:
    """Put contacts made before every write listed them on the v1 API's list of people (GET /v1/people).

    Reads the whole contacts table (a Scan, 500 per request) and writes only the contacts missing from the
    list; safe to run again, or while the app runs. A progress line per page says where to resume."""
    from chalicelib.campaigns import contacts  # lazy, for cold start: only this command needs it

    if after is not None:
        after = contacts.email_address(after, "after")  # as the progress line printed it: a normalised address
    added = contacts.backfill_list(click.echo, after)
    click.echo(f"{added:,} contacts added to the people list")


@cli.command("delete-person")
@click.option("--email", required=True, help="The person's address.")
@click.option("--actor", default="cli", help="Who asked, for the deletions record (never the person's address).")
def delete_person(email: str, actor: str) -> None:
    """Delete a person and everything about them; their address stays only as a suppressed hash (docs/privacy.md)."""
    from chalicelib.privacy import deletion  # lazy, for cold start: only this command needs it

    try:
        report = deletion.delete_person(email, actor=actor, now=time.time())
    except CloseloopError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(report.summary())


@cli.command("import-delighted")
@click.option("--campaign", "campaign_id", required=True, help="The campaign that receives the history.")
@click.option(
    "--kind",
    type=click.Choice(["people", "responses", "unsubscribes", "bounces"]),
    help="What every file holds, checked: a file whose columns say another kind, or lack the kind's "
    "(a score and its time for responses; unsubscribed_at; bounced_at), is refused with nothing imported.",
)
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def import_delighted(campaign_id: str, kind: str | None, files: tuple[str, ...]) -> None:
    """Import Delighted's exports (CSV, or its API's JSON): people, responses, unsubscribes and bounces.

    Importing a file again adds nothing. Exit code 1 when a row was rejected (each is listed)."""
    from chalicelib.delighted import history_import  # lazy, for cold start: only this command needs it

    try:
        reports = history_import.import_files(
            campaign_id, history_import.read_files(files), time.time(), "cli", kind, click.echo
        )
    except CloseloopError as exc:
        raise click.ClickException(exc.message) from None
    history_import.count_all(click.echo)
    for report in reports:
        click.echo(
            f"{report['file']}: {report['kind']}, {history_import.plural(report['rows'], 'row')}: "
            f"{report['invited']:,} new, "
            f"{report['already_invited']:,} already imported, {report['duplicates_merged']:,} merged as duplicates, "
            f"{report['rejected']:,} rejected (import {report['id']})"
        )
        for row in report["rejected_rows"]:
            click.echo(f"  row {row['row']} ({row['field']}): {row['message']}")
    if any(report["rejected"] for report in reports):
        raise SystemExit(1)


@cli.command("digest-preview")
@click.option("--campaign", "campaign_id", required=True, help="The campaign's id.")
@click.option("--frequency", type=click.Choice(["weekly", "daily", "monthly"]), default="weekly")
@click.option("--so-far", is_flag=True, help="The period in progress (this week) instead of the last complete one.")
def digest_preview(campaign_id: str, frequency: str, so_far: bool) -> None:
    """Print the text of a campaign's latest digest (the last complete period) without sending it."""
    from chalicelib.campaigns import campaigns  # lazy, for cold start: only this command needs it
    from chalicelib.insight import digest  # lazy, for cold start: only this command needs it

    campaign = campaigns.get_view(campaign_id)
    now = time.time()
    period = digest.latest_period(frequency, now, campaign.timezone, so_far)
    message = digest.render_message(
        digest.preview(campaign, period, now), "preview@closeloop.localhost", get_settings()
    )
    click.echo(f"Subject: {message['Subject']}\n")
    click.echo(message.get_body(("plain",)).get_content())


@cli.command("preview")
@click.option("--campaign", "campaign_id", required=True, help="The campaign's id.")
@click.option("--locale", required=True, type=click.Choice(list(LANGUAGES)), help="The customer's language.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Default: .local/preview/ID/LOCALE.")
def preview(campaign_id: str, locale: str, out: Path | None) -> None:
    """Write every email (.html, .txt, .eml) and page (.html) of a campaign as a customer in LOCALE gets
    them, and an index.html showing them all; nothing is sent or recorded."""
    from chalicelib.dashboard import gallery  # lazy, for cold start: only this command needs it

    try:
        sample = gallery.sample(campaign_id, locale, time.time())
    except CloseloopError as exc:
        raise click.UsageError(exc.message) from None
    written = gallery.write(sample, out or gallery.default_folder(campaign_id, locale))
    for path in written:
        click.echo(str(path))
    click.echo(f"open {written[-1]}")


if __name__ == "__main__":
    cli()
