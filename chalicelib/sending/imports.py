"""Importing recipients: JSON rows or a CSV file, every row validated and every rejection explained.

Validation and duplicate merging happen at once, in memory, so the answer reports every
rejected row exactly. Writing contacts and invitations happens in chunks of 500: inline for
small imports, through the work queue for large ones (100,000 rows never meet a Lambda
timeout). Each chunk is counted once even when the queue delivers it twice, and a campaign
does not start sending while one of its imports is still running.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import unicodedata
import zlib
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from chalicelib.campaigns import campaigns, contacts
from chalicelib.campaigns.campaigns import CampaignView
from chalicelib.core import schedule
from chalicelib.core.config import Settings
from chalicelib.core.errors import NotFound, ValidationError
from chalicelib.core.signing import new_id
from chalicelib.queue import WorkQueue
from chalicelib.sending import invitations
from chalicelib.store import bind
from chalicelib.store.models import ImportJob, ImportRejects, Member
from chalicelib.store.transact import ConditionFailed, put_new, update

CHUNK = 500
MAX_ROWS = 100_000
MAX_CELL = 500
# Rows of a chunk written at once: each row's writes are independent of the other rows' (addresses are
# merged before), and one row at a time a chunk mostly waits for DynamoDB's answers (1,000 or more
# requests of a few ms each on AWS). Within the botocore client's 10 connections (max_pool_connections).
WRITERS = 8


def decode_csv(raw: bytes, charset: str | None) -> str:
    """The text of an uploaded CSV file. Raises ValidationError (field `file`) when it cannot be read.

    As the WHATWG Encoding Standard decodes a document: a byte-order mark decides (UTF-8, or
    UTF-16 little- or big-endian as Excel's "Unicode text" writes it); else the declared
    `charset`; else UTF-8 when the bytes are valid UTF-8, else Windows-1252, the code page of
    Excel's "CSV" on a Western Windows. A declared Latin-1 or ASCII is read as Windows-1252 too,
    as browsers do. docs/sending.md says why no charset detector guesses the rest.

    A file that is not text (a spreadsheet's own format, a PDF, an image: one of their magic numbers,
    or a NUL character once decoded, which no text holds) is refused as such, not read as a CSV.
    """
    if raw.startswith(_BINARY_SIGNATURES):
        raise ValidationError(NOT_TEXT, "file")
    text = _text(raw, charset)
    if "\x00" in text:
        raise ValidationError(NOT_TEXT, "file")
    return text


NOT_TEXT = "This file is not a CSV or text file: export it from your spreadsheet as CSV."
# What people upload by mistake: .xlsx/.numbers/.ods (ZIP), .xls (OLE2), PDF, PNG, JPEG, GIF, gzip.
_BINARY_SIGNATURES = (
    b"PK\x03\x04",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    b"%PDF-",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF87a",
    b"GIF89a",
    b"\x1f\x8b",
)


def _text(raw: bytes, charset: str | None) -> str:
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            return _decode(raw[len(bom) :], codec, f"The file starts with the byte-order mark of {codec}")
    if charset:
        try:
            codec = codecs.lookup(charset).name
        except LookupError:
            raise ValidationError(f"The charset “{charset[:40]}” is not one we know; send UTF-8.", "file") from None
        if codec in _READ_AS_1252:
            return _windows_1252(raw)
        return _decode(raw, codec, f"The file is declared {charset[:40]}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return _windows_1252(raw)


_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_READ_AS_1252 = {"iso8859-1", "ascii", "cp1252"}
_UNDEFINED_1252 = re.compile(b"([\\x81\\x8d\\x8f\\x90\\x9d]+)")


def _decode(raw: bytes, codec: str, declared: str) -> str:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"{declared}, but byte {exc.start + 1} is not {codec} text; save the file as CSV UTF-8.", "file"
        ) from None


def _windows_1252(raw: bytes) -> str:
    """Never fails: the five bytes Windows-1252 leaves undefined are C1 controls, as in WHATWG's windows-1252."""
    chunks = _UNDEFINED_1252.split(raw)
    return "".join(chunk.decode("latin-1" if i % 2 else "cp1252") for i, chunk in enumerate(chunks))


@dataclass
class CsvFile:
    """A CSV file as read: `rows` as (spreadsheet row number, {email, properties} or the reason the row
    cannot be read), and the `header` and each row's `cells` as the file had them, for the rejected rows'
    download.

    A pasted line of several addresses is one row each, under the line's number: `places` gives each row's
    place on its line (1, 2, …; 0 for a row that is its whole line; empty when every row is), and
    `address_cells` each such address's own text by (line, place), so a rejected one is downloaded alone."""

    header: list[str]
    rows: list[tuple[int, Any]]
    cells: dict[int, list[str]]
    places: list[int] = field(default_factory=list)
    address_cells: dict[tuple[int, int], list[str]] = field(default_factory=dict)


def parse_csv(text: str, header: bool = True) -> CsvFile:
    """The file's rows as (spreadsheet row number, {email, properties}); the header row is row 1 (blank
    lines before it count).

    The delimiter is Excel's `sep=` first line when there is one, else the one of , ; TAB |
    that the stdlib Sniffer finds and the header uses, else the one that splits the header into
    the most columns. An email column is required (`Email`, `E-mail`, `Email Address`, any case);
    every other column becomes a property named after its header (lower case, spaces and dashes as
    `_`: `First Name` is `first_name`); empty cells are left out. A header that cannot be used is
    refused once, here, naming its columns, and so is a file with a header but no data rows. Rows
    with more cells than the header are passed on as they are, so the validation reports them like
    any other bad row; cells beyond the header that hold nothing (a trailing `,`) are not cells.

    A file of one column (the header has no delimiter) is a list of addresses under its header: each
    line is one cell, read as address_lines reads one address (never split), so an unquoted
    `Müller, Ana <ana@example.com>` is not split at its comma. An email cell is read as one pasted
    address is (read_address): separators around it dropped, a name before angle brackets left out,
    several addresses one rejected row that says so. A row of cells holding only separators, spaces or
    invisible characters is blank.

    Our own rejected-rows download comes back as it went out: a cell's formula guard (GUARDED) is
    taken off, and its last two columns, `row` and `reason` (REJECTED_COLUMNS), are dropped.
    With `header=False` (RFC 4180's `header=absent`) the text is pasted addresses, read by address_lines.
    """
    text = text.lstrip("\ufeff")
    if not header:
        return address_lines(text)
    if not text.strip():
        raise ValidationError("The CSV file is empty: it needs a header row with an email column.", "file")
    above, delimiter, text = _header_start(text)
    stream = io.StringIO(text)
    reader = csv.reader(stream, delimiter=delimiter)
    try:
        titles = [unguard(h) for h in next(reader, [])]
    except csv.Error as exc:
        raise ValidationError(f"The CSV header cannot be read: {exc}.", "file") from None
    ours = len(titles) > len(REJECTED_COLUMNS) and tuple(titles[-len(REJECTED_COLUMNS) :]) == REJECTED_COLUMNS
    width = len(titles) - len(REJECTED_COLUMNS)
    if ours:
        titles = titles[:width]
    names, email_at = _columns(titles, delimiter)
    if len(titles) == 1 and not ours:
        read = _lines(stream.read(), above + 2, IN_CELL, titles)
    else:
        read = CsvFile(titles, *_records(reader, above + 2, names, email_at, width if ours else None))
    if not read.rows:
        raise ValidationError("The file has a header row but no data rows.", "file")
    return read


def has_header(text: str) -> bool:
    """Whether parse_csv finds an email column in the text's header row (its first line that is not
    blank, after Excel's `sep=` line): how the dashboard tells pasted CSV text from a list of addresses."""
    _, delimiter, text = _header_start(text.lstrip("\ufeff"))
    try:
        titles = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    except csv.Error:
        return False
    return any(property_name(unguard(title)) in EMAIL_HEADERS for title in titles)


# Columns of Delighted's responses export that a list of people to survey does not have (besides `score`,
# which one may: a lead score). chalicelib.delighted.history reads them; sending cannot import it.
DELIGHTED_RESPONSE_COLUMNS = frozenset(
    {"response_id", "survey_response_id", "response_timestamp", "responded_at", "permalink", "survey_type"}
)
# When a response was given, as the history import reads it (history.CREATED): with `score`, in our own
# rejected-rows download, the rows a history import rejected.
RESPONSE_TIMES = frozenset({"created_at", "response_timestamp", "timestamp", "responded_at", "date", "created"})
HISTORY_JSON = ("json",)  # the one column of the rejected-rows download of an import of Delighted's JSON


SUPPRESSED_COLUMNS = frozenset({"unsubscribed_at", "bounced_at"})  # Delighted's exports of who must not be mailed


def refuse_delighted_history(text: str, campaign_id: str) -> None:
    """Refuse, as recipients, a CSV that is Delighted's responses export or the rejected rows of a history
    import: its people would be mailed and none of its answers imported. Raises ValidationError (field
    `file`) naming the history import, for a header with `score` and a column only Delighted's responses
    have (DELIGHTED_RESPONSE_COLUMNS); or our rejected-rows download (REJECTED_COLUMNS last) with `score`
    and a response time (RESPONSE_TIMES), or of a JSON import. A `score` column alone, or with
    `created_at` in a file of one's own, stays a property. A file with a time of unsubscribing or bouncing
    (SUPPRESSED_COLUMNS: Delighted's unsubscribes and bounces exports, or their rejected rows) is refused
    likewise: those people asked not to be mailed, or cannot be."""
    _, delimiter, start = _header_start(text.lstrip("\ufeff"))
    try:
        names = [property_name(unguard(t)) for t in next(csv.reader(io.StringIO(start), delimiter=delimiter), [])]
    except csv.Error:
        return
    ours = len(names) > len(REJECTED_COLUMNS) and tuple(names[-len(REJECTED_COLUMNS) :]) == REJECTED_COLUMNS
    columns = set(names[: -len(REJECTED_COLUMNS)] if ours else names)
    suppressed = sorted(columns & SUPPRESSED_COLUMNS)
    if suppressed:
        raise ValidationError(
            f"This looks like a Delighted unsubscribes or bounces export (it has {', '.join(suppressed)}): these "
            "people must not be mailed. Import it with `python -m chalicelib.cli import-delighted --campaign "
            f"{campaign_id} FILE` or `POST /api/campaigns/{campaign_id}/imports/delighted`, which suppresses them, "
            "not as recipients.",
            "file",
        )
    scored = "score" in columns
    if not (
        (ours and tuple(names[: -len(REJECTED_COLUMNS)]) == HISTORY_JSON)
        or (scored and columns & DELIGHTED_RESPONSE_COLUMNS)
        or (ours and scored and columns & RESPONSE_TIMES)
    ):
        return
    raise ValidationError(
        "This looks like a Delighted responses export (or the rows a Delighted history import rejected): import "
        f"it as history with `python -m chalicelib.cli import-delighted --campaign {campaign_id} FILE` or "
        f"`POST /api/campaigns/{campaign_id}/imports/delighted`, not as recipients (they would be mailed). "
        "If these are people to survey, rename the score column.",
        "file",
    )


_BLANK_LINES = re.compile(r"(?:[^\S\n]*\n)*")


def _header_start(text: str) -> tuple[int, str, str]:
    """(blank lines above the header, the delimiter, the text from the header row on)."""
    blank = _BLANK_LINES.match(text)
    above = blank.group().count("\n") if blank else 0
    text = text[blank.end() :] if blank else text
    declared = _SEP_LINE.match(text)
    if declared:
        return above, declared.group(1), text[declared.end() :]
    return above, _delimiter(text), text


def _records(
    reader: Iterable[list[str]], first: int, names: list[str], email_at: int, ours: int | None
) -> tuple[list[tuple[int, Any]], dict[int, list[str]]]:
    """The data rows of a file of several columns, numbered from `first`; `ours` is the width of our own
    download's columns before its `row` and `reason`."""
    rows: list[tuple[int, Any]] = []
    cells_of: dict[int, list[str]] = {}
    try:
        for number, read in enumerate(reader, start=first):
            cells = [unguard(c) for c in read]
            if ours is not None:
                cells = cells[:ours] + cells[ours + len(REJECTED_COLUMNS) :]
            while len(cells) > len(names) and not trimmed(cells[-1]):
                cells.pop()
            if not any(trimmed(c) for c in cells):
                continue
            _count(rows)
            cells_of[number] = cells
            if len(cells) > len(names):
                rows.append((number, f"has {len(cells)} cells but the header has {len(names)}"))
                continue
            email, problem = read_address(cells[email_at] if email_at < len(cells) else "", IN_CELL)
            if problem:
                rows.append((number, problem))
                continue
            props = {
                names[i]: cell.strip() for i, cell in enumerate(cells) if i != email_at and names[i] and cell.strip()
            }
            rows.append((number, {"email": email, "properties": props}))
    except csv.Error as exc:
        raise ValidationError(f"The CSV file cannot be read after row {len(rows) + 1}: {exc}.", "file") from None
    return rows, cells_of


def address_lines(text: str) -> CsvFile:
    """Pasted addresses (RFC 4180's `header=absent`) as parse_csv's rows; the first line is row 1.

    A line is read as a person copies it from a mail client's To: field: Outlook and Gmail put every
    address on one line, between `;` or `,` (split_addresses). A line of one address is one row; a line
    of several is one row per address, each accepted or rejected on its own and reported by its line and
    place ("Line 1, address 3"). No part of a line is ever dropped: every piece of it is in an address
    that is accepted or rejected. The name before an address's brackets is kept (names_of). A line
    written as one quoted CSV cell, as our rejected rows' download writes a cell holding a comma or a
    quote, is read as that cell. ValidationError (field `file`) when no line holds anything.
    """
    read = _lines(text, 1, ON_LINE, [ABSENT_HEADER])
    if not read.rows:
        raise ValidationError(NO_ADDRESSES, "file")
    return read


NO_ADDRESSES = "There are no addresses here: paste addresses, one a line or separated by `,` or `;`."


def _lines(text: str, first: int, place: Place, header: list[str]) -> CsvFile:
    """Each line one cell, numbered from `first`; blank lines (nothing but separators, spaces or invisible
    characters) are skipped, every other line is a row or a rejected row, or with ON_LINE one such row
    per address it holds."""
    read = CsvFile(header, [], {})
    for number, line in enumerate(text.splitlines(), start=first):
        cell = unguard(_unquoted(trimmed(line)))
        if not trimmed(cell):
            continue
        read.cells[number] = [cell]
        entries = split_addresses(cell) if place is ON_LINE else [cell]
        for at, entry in enumerate(entries, start=1):
            _count(read.rows)
            read.rows.append((number, _entry(entry if len(entries) > 1 else cell, place)))
            read.places.append(at if len(entries) > 1 else 0)
            if len(entries) > 1:
                read.address_cells[number, at] = [entry]
    return read


def _entry(written: str, place: Place) -> Any:
    """A row's {email, properties, guessed}, or why it is rejected; a pasted address's name is guessed."""
    email, problem = read_address(written, place)
    if problem:
        return problem
    guessed = names_of(display_name(written)) if place is ON_LINE else {}
    return {"email": email, "properties": {}, "guessed": guessed}


_ATOMS = re.compile(r'"(?:[^"\\]|\\.)*"|<[^<>]*>|\([^()]*\)|[,;]|\s+|[^\s"<(,;]+|.', re.DOTALL)


def split_addresses(line: str) -> list[str]:
    """A pasted line as the addresses it holds, each as written with its name: `Ana <ana@x.com>; bo@x.com`
    -> [`Ana <ana@x.com>`, `bo@x.com`]. Each is then read by read_address.

    An address ends at a `,` or `;` once it holds an address (in angle brackets, or a word with an @),
    at its closing angle bracket, or where a second word with an @ follows a first one
    (`ana@x.com bo@x.com`). Before one, a `,` or `;` stays in the name (`Müller, Ana <ana@x.com>`), a
    word with an @ followed by brackets is a name (Outlook's `'ana@x.com' <ana@x.com>`), and a quoted
    name keeps everything (`"Zoë, Chloé" <zoe@x.com>`). Text left at the end that holds no address
    (`ana@x.com,Ana,pro`) goes with the address before it, so that one is rejected quoting it.

    Not email.utils.getaddresses: it reads `;` as part of an address, `Müller, Ana <…>` as two addresses
    and Outlook's `'ana@x.com' <ana@x.com>` as two, and it mends or drops what it cannot read
    (`bad@@x.com` becomes `@x.com`, `ana@x.com bo@x.com` nothing), where every address must be kept or
    rejected as written.
    """
    spans: list[list[int]] = []  # [start, end] of each address in the line
    # What the address being read holds: None, not started; "" nothing yet; "@" a word with an @; "<" brackets.
    holds: str | None = None
    for atom in _ATOMS.finditer(line):
        text = atom.group()
        boxed = len(text) > 1 and text[0] == "<" and text[-1] == ">"
        if text.isspace() or (len(text) > 1 and text[0] == "(" and text[-1] == ")"):
            if holds is not None:  # a comment stays with its address
                spans[-1][1] = atom.end()
            continue
        if text in ",;":
            if holds:
                holds = None
            continue
        word_at = "@" in text and text[0] != '"' and not boxed
        if holds is None or (holds == "<" and (boxed or word_at)) or (holds == "@" and word_at):
            spans.append([atom.start(), atom.end()])
            holds = ""
        spans[-1][1] = atom.end()
        if boxed:
            holds = "<"
        elif word_at and not holds:
            holds = "@"
    if holds == "" and len(spans) > 1:  # text at the end holds no address: it goes with the one before
        end = spans.pop()[1]
        spans[-1][1] = end
    return [trimmed(line[start:end]) for start, end in spans]


@dataclass(frozen=True)
class Place:
    """How a rejected row's message names where its addresses are (`on one line`) and what to do."""

    where: str
    one: str
    beside: str


ON_LINE = Place(
    "written as one",
    "separate addresses with `,` or `;`",
    "only a name goes with an address, before its angle brackets; to import other values too, use CSV text "
    "with a header row naming an email column",
)
IN_CELL = Place("in its email cell", "one address a row", "one address a row, other values in their own columns")


def read_address(cell: str, place: Place = ON_LINE) -> tuple[str, str | None]:
    """(the address to validate, None), or ("", why the row is rejected: the rest of a "Row N …"
    sentence, quoting the cell); a pasted line or an email cell read as a person copies it from a mail
    client's To: field.

    Separators and invisible characters around it are dropped (trimmed), and so are comments at its
    end (`ana@example.com (Sales)`, `Ana <ana@example.com> (Sales)`). Angle brackets hold the address:
    `Müller, Ana <ana@example.com>` is ana@example.com, and what comes before the brackets is a name
    (not kept), whatever it holds: a quoted name (`"Müller, Ana"`, `"ana@example.com"`), a comment,
    an @ (`Ana @ Home`) or the address itself again, as Outlook writes `'ana@example.com'
    <ana@example.com>`. So the addresses a line holds are its bracketed ones, plus a different address
    written as a name, plus any after the last brackets: more than one is rejected as such, so neither
    is imported without the other. Without brackets they are the parts between separators that hold an
    @ (`Zoë@@example.com` is one malformed address); one address beside other text (`ana@example.com,Ana`)
    is rejected as that, not as an address with a comma in its domain.

    A `mailto:` before the address (copied from a link) is taken off: `mailto:ana@example.com`.

    Not email.utils.getaddresses, nor email-validator's display names: mail clients write names
    unquoted, with commas and accents (`Müller, Ana <…>`), which getaddresses reads as two addresses and
    email-validator refuses; getaddresses also mends what it cannot read (`<ana@exa mple.com>` becomes
    ana@example.com, `<ana@>` nothing), where contacts.email_address should say what is wrong.
    """
    written = trimmed(cell)
    shown = _shown(written)
    written = trimmed(_TRAILING_COMMENTS.sub("", written)) or written
    boxes, tail = _mailboxes(written)
    if not boxes:
        parts = [p for p in _BETWEEN.split(written) if p]
        found = sum("@" in p for p in parts)
        if found > 1:
            return "", f"holds {found} addresses {place.where}, {shown}: {place.one}"
        at = next((p for p in parts if "@" in p), "")
        if found and len(parts) > 1 and (_DELIMITED.search(written) or _ADDRESS_LIKE.fullmatch(at)):
            return "", f"holds other text beside the address, {shown}: {place.beside}"
        return _MAILTO.sub("", written), None
    after = [p for p in _BETWEEN.split(tail) if p]
    found = sum("@" in address for address, _ in boxes) + sum("@" in p for p in after)
    for address, name in boxes:
        named = (part.strip("'\"()") for part in _BETWEEN.split(name))
        found += sum(bool(_ADDRESS_LIKE.fullmatch(n)) and n.lower() != address.lower() for n in named)
    if found > 1:
        return "", f"holds {found} addresses {place.where}, {shown}: {place.one}"
    if after:
        return "", f"has text after the address's closing angle bracket, {shown}: only a name goes before it"
    if len(boxes) > 1:
        return "", f"has {len(boxes)} pairs of angle brackets, {shown}: {place.one}, in one pair of brackets"
    if not boxes[0][0]:
        return "", f"has nothing between its angle brackets, {shown}: write the address in them"
    return _MAILTO.sub("", boxes[0][0]), None


_MAILTO = re.compile(r"^mailto:", re.IGNORECASE)


def display_name(written: str) -> str:
    """The name before an address's angle brackets as a person reads it: `"Zoë, Chloé" <zoe@x.com>` ->
    `Zoë, Chloé`, quotes and comments taken off; "" without brackets or when the name is an address
    (Outlook's `'ana@x.com' <ana@x.com>`)."""
    parts: list[str] = []
    for token in _TOKENS.findall(trimmed(written)):
        kind = token[0] if len(token) > 1 and token[-1] == _CLOSING.get(token[0]) else ""
        if kind == "<":
            name = trimmed(" ".join("".join(parts).split()))
            if len(name) > 1 and name[0] == name[-1] == "'":
                name = name[1:-1].strip()
            return "" if _ADDRESS_LIKE.fullmatch(name) else name
        if kind != "(":
            parts.append(re.sub(r"\\(.)", r"\1", token[1:-1]) if kind == '"' else token)
    return ""


def names_of(name: str) -> dict[str, str]:
    """The properties a display name gives: `name`, and `first_name` (what templates greet with, as in
    `Hi {{ first_name | default('there') }}`): its first word, or the first word after the comma of a
    name written `Last, First` as Outlook shows a directory's names (`Lopez, Ana` -> `Ana`)."""
    if not name:
        return {}
    given = name.split(",")[1] if name.count(",") == 1 else name
    words = given.split() or name.split()
    return {"name": name, "first_name": words[0].strip(",")}


# A quoted name, an address in angle brackets, a comment, other text: RFC 5322's mailbox, leniently.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|<[^<>]*>|\([^()]*\)|[^"<(]+|.', re.DOTALL)
_CLOSING = {"<": ">", '"': '"', "(": ")"}
_TRAILING_COMMENTS = re.compile(r"(?:\s*\([^()]*\))+$")
_ADDRESS_LIKE = re.compile(r"[^@\s]+@[^@\s.]+\.[^@\s]+")
_DELIMITED = re.compile(r"[,;\t|]")
_BETWEEN = re.compile(r"[\s,;]+")


def _mailboxes(written: str) -> tuple[list[tuple[str, str]], str]:
    """([(an address in angle brackets, the name before it without its quoted parts)], the text after
    the last brackets); comments are left out of both."""
    boxes: list[tuple[str, str]] = []
    since: list[tuple[str, str]] = []  # (kind: " for a quoted part, else "", text) since the last brackets
    for token in _TOKENS.findall(written):
        kind = token[0] if len(token) > 1 and token[-1] == _CLOSING.get(token[0]) else ""
        if kind == "<":
            boxes.append((token[1:-1].strip(), "".join(text for k, text in since if not k)))
            since = []
        else:
            since.append(("", " ") if kind == "(" else (kind, token))
    return boxes, "".join(text for _, text in since)


def trimmed(line: str) -> str:
    """`  ana@example.com; ` -> `ana@example.com`: the separators a mail client's To: field leaves around
    an address (spaces, `,` and `;`), and invisible characters (Unicode's format characters, such as a
    zero-width space or a byte-order mark, as a web page's copy carries them), taken off; a line of
    nothing else is empty. Not a regex: `\\s` has no class for format characters."""
    start, end = 0, len(line)
    while start < end and _around(line[start]):
        start += 1
    while end > start and _around(line[end - 1]):
        end -= 1
    return line[start:end]


def _around(char: str) -> bool:
    return char.isspace() or char in ",;" or unicodedata.category(char) == "Cf"


def _shown(text: str) -> str:
    """The cell as a message quotes it: at most 60 characters, invisible ones as \\u escapes."""
    cut = text[:60] + ("…" if len(text) > 60 else "")
    return "“" + "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in cut) + "”"


def _unquoted(line: str) -> str:
    """`"ana@example.com, bo@example.com"` -> `ana@example.com, bo@example.com`: a line that is exactly one
    quoted CSV cell (RFC 4180: inner quotes doubled) unquoted; any other line as it is."""
    inner = line[1:-1]
    if len(line) >= 2 and line[0] == line[-1] == '"' and '"' not in inner.replace('""', ""):
        return inner.replace('""', '"')
    return line


def _count(rows: list) -> None:
    if len(rows) >= MAX_ROWS:
        raise ValidationError(f"At most {MAX_ROWS:,} rows per import; split the file.", "file")


# The formula guard of reports.neutralise (its FORMULA_STARTS; a test keeps the two equal): a leading '
# before one of these. sending cannot import insight, where the exports live.
GUARDED = ("=", "+", "-", "@", "\t", "\r")
# The last two columns of the rejected rows' download (admin.api.rejected_csv), as it writes them.
REJECTED_COLUMNS = ("row", "reason")
ABSENT_HEADER = "email"


def unguard(cell: str) -> str:
    """`'+41 22` -> `+41 22`: the guard our CSV downloads put before a cell a spreadsheet would run as a
    formula, and only that (`'quoted'` stays as it is)."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in GUARDED else cell


DELIMITERS = ",;\t|"
EMAIL_HEADERS = frozenset({"email", "e_mail", "email_address", "e_mail_address"})
_SEP_LINE = re.compile(r'"?sep=([^"\r\n])"?[ \t]*\r?\n', re.IGNORECASE)
_SNIFF_CHARS = 16_384


def _delimiter(text: str) -> str:
    """Sniffed from the first lines, but only a delimiter the header uses: values may contain others."""
    header = text.split("\n", 1)[0]
    sample = text[:_SNIFF_CHARS]
    sample = sample.rsplit("\n", 1)[0] if "\n" in sample else sample
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:  # a one-column file, or lines too unlike each other
        sniffed = ""
    if sniffed and sniffed in header:
        return sniffed
    return max(DELIMITERS, key=lambda d: len(next(csv.reader([header], delimiter=d), [])))


def property_name(header: str) -> str:
    """`First Name` -> `first_name`: lower case, runs of spaces and dashes as one `_`."""
    return re.sub(r"[\s-]+", "_", header.strip().lower())


def _columns(header: list[str], delimiter: str) -> tuple[list[str], int]:
    """(property name of each column, "" to skip it; index of the email column), or ValidationError."""
    names = [property_name(h) for h in header]
    emails = [i for i, name in enumerate(names) if name in EMAIL_HEADERS]
    shown = "TAB" if delimiter == "\t" else delimiter
    if not emails:
        found = ", ".join(f"“{h.strip()[:40]}”" for h in header[:10] if h.strip()) or "nothing"
        raise ValidationError(
            f"The CSV header needs an email column (`email`, `E-mail` or `Email Address`); "
            f"read with `{shown}` between columns, it has {found}.",
            "file",
        )
    problems = []
    if len(emails) > 1:
        problems.append(f"columns {' and '.join(str(i + 1) for i in emails)} are each an email column; keep one")
    first: dict[str, int] = {}
    for i, name in enumerate(names):
        if not name or i in emails:
            continue
        if name in first:
            problems.append(f"columns {first[name] + 1} and {i + 1} both become the property `{name}`")
        elif contacts.properties_problem({name: None}):
            problems.append(
                f"column {i + 1}, “{header[i].strip()[:40]}”, cannot be a property name: "
                "use letters a-z, digits, spaces, _ . or -, starting with a letter, at most 64 characters"
            )
        first.setdefault(name, i)
    if problems:
        raise ValidationError(f"The CSV header cannot be used: {'; '.join(problems)}.", "file")
    return names, emails[0]


# The JSON body of POST /api/campaigns/{id}/recipients, declared once: parse_json reads its limit, and
# chalicelib.admin.openapi publishes it.
RECIPIENTS_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["recipients"],
    "properties": {"recipients": {"type": "array", "maxItems": MAX_ROWS, "items": contacts.RECIPIENT_SCHEMA}},
}


def parse_json(items: Any) -> list[tuple[int, Any]]:
    """The rows of a JSON import, numbered from 0; a ValidationError on `recipients` when it is not a list
    or longer than RECIPIENTS_BODY allows."""
    limit = RECIPIENTS_BODY["properties"]["recipients"]["maxItems"]
    if not isinstance(items, list):
        raise ValidationError("recipients is a list of {email, properties} objects.", "recipients")
    if len(items) > limit:
        raise ValidationError(f"At most {limit:,} recipients per import.", "recipients")
    return list(enumerate(items))


def validate(
    rows: Sequence[tuple[int, Any]], path: str, places: Sequence[int] = (), guessed: bool = False
) -> contacts.RecipientBatch:
    """Recipients merged by address; rows that are not objects (bad CSV rows) rejected with their reason.

    `places` (CsvFile.places) names the addresses of a pasted line of several: a rejection says "Line 1,
    address 3", field `row[1].address[3]`. `guessed`: rows read from a file, whose names are kept."""
    good, bad = [], []
    for index, (number, item) in enumerate(rows):
        if isinstance(item, str):
            place = places[index] if places else 0
            start = f"Line {number}, address {place}" if place else f"Row {number}"
            bad.append(contacts.Rejection(number, _field(path, number, place), f"{start} {item}.", place))
        else:
            good.append((index, item))
    batch = contacts.parse_recipients(good, path, guessed)
    for r in batch.rejected:  # parse_recipients numbered them by their index in rows
        index, r.row = r.row, rows[r.row][0]
        r.address = places[index] if places else 0
        rest = r.field[len(f"{path}[{index}]") :]
        if r.address:
            r.field = _field(path, r.row, r.address) + ("" if rest == ".email" else rest)
            r.message = f"Line {r.row}, address {r.address}: {r.message}"
        else:
            r.field = _field(path, r.row, 0) + rest
    batch.rejected = sorted(bad + batch.rejected, key=lambda r: (r.row, r.address))
    return batch


def _field(path: str, number: int, place: int) -> str:
    return f"{path}[{number}]" + (f".address[{place}]" if place else "")


def start(
    campaign: CampaignView,
    rows: list[tuple[int, Any]],
    path: str,
    now: float,
    settings: Settings,
    queue: WorkQueue,
    original: CsvFile | None = None,
) -> dict:
    """Validate every row, keep the rejected ones (`original` gives a CSV's header and cells; a JSON
    import's rows are their own), then write in chunks: inline when small, through the queue when large."""
    batch = validate(rows, path, original.places if original else (), original is not None)
    chunks = [batch.recipients[i : i + CHUNK] for i in range(0, len(batch.recipients), CHUNK)]
    bind()
    import_id = new_id()
    pieces = _keep_rejected(import_id, batch.rejected, rows, original)
    job = ImportJob(
        import_id,
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
        rejected_pieces=pieces,
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
                    "recipients": [{"email": r.email, "properties": r.properties, "guessed": r.guessed} for r in chunk],
                }
                for i, chunk in enumerate(chunks)
            ]
        )
    report = status(job.id)
    report["rejected_rows"] = [r.to_json() for r in batch.rejected]
    return report


# A piece of rejected rows stays well under DynamoDB's 400 KB item; rows are grouped by their JSON size
# (zlib shrinks typical rows about ten times) and a group that compresses larger is halved.
REJECTS_PIECE_BYTES = 350_000
_GROUP_JSON_BYTES = 2_500_000


def _keep_rejected(
    import_id: str, rejected: list[contacts.Rejection], rows: list[tuple[int, Any]], original: CsvFile | None
) -> int:
    """Store every rejected row with its original cells (ImportRejects); returns the number of pieces."""
    if not rejected:
        return 0
    if original is not None:
        header = original.header
        kept = [[r.row, r.field, r.message, _cells(original, r)] for r in rejected]
    else:
        items = dict(rows)
        names: dict[str, None] = {}
        for r in rejected:
            item = items.get(r.row)
            if isinstance(item, Mapping) and isinstance(item.get("properties"), Mapping):
                names.update(dict.fromkeys(str(name) for name in item["properties"]))
        header = ["email", *names]
        kept = [[r.row, r.field, r.message, _json_cells(items.get(r.row), list(names))] for r in rejected]
    groups, group, size = [], [], 0
    for row in kept:
        row_size = len(json.dumps(row, ensure_ascii=False))
        if group and size + row_size > _GROUP_JSON_BYTES:
            groups.append(group)
            group, size = [], 0
        group.append(row)
        size += row_size
    groups.append(group)
    pieces = [piece for g in groups for piece in _compressed(header, g)]
    with ImportRejects.batch_write() as batch:
        for number, piece in enumerate(pieces):
            batch.save(ImportRejects(import_id, number, rows=piece))
    return len(pieces)


def _cells(original: CsvFile, rejected: contacts.Rejection) -> list[str]:
    """A rejected row's cells: a pasted address's own text when its line held several."""
    if rejected.address:
        return original.address_cells.get((rejected.row, rejected.address), [])
    return original.cells.get(rejected.row, [])


def keep_rejected(import_id: str, rejected: list[contacts.Rejection], original: CsvFile) -> int:
    """Store the rejected rows of another kind of import (Delighted's history) as this one stores its
    own, for the same download; returns the number of pieces."""
    return _keep_rejected(import_id, rejected, original.rows, original)


def _compressed(header: list[str], rows: list[list]) -> list[bytes]:
    blob = zlib.compress(json.dumps({"header": header, "rows": rows}, ensure_ascii=False).encode(), 9)
    if len(blob) <= REJECTS_PIECE_BYTES:
        return [blob]
    if len(rows) == 1:  # one row of cells larger than any spreadsheet sends: keep the start of each cell
        row, field, message, cells = rows[0]
        return _compressed(header, [[row, field, message, [c[:MAX_CELL] for c in cells[:MAX_CELL]]]])
    half = len(rows) // 2
    return _compressed(header, rows[:half]) + _compressed(header, rows[half:])


def _json_cells(item: Any, names: list[str]) -> list[str]:
    """A JSON row as CSV cells: its email, then its properties in `names` order; a row that is not an
    object is kept as its JSON text in the email column."""
    if not isinstance(item, Mapping):
        return [json.dumps(item, ensure_ascii=False)]
    props = item.get("properties") if isinstance(item.get("properties"), Mapping) else {}
    return [_cell(item.get("email")), *(_cell(props.get(name)) for name in names)]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def rejected_rows(import_id: str) -> tuple[list[str], list[dict]]:
    """(the file's header, each rejected row as {row, field, message, cells}) in row order; one Query.
    Imports made before rows were kept have none."""
    bind()
    header: list[str] = []
    found: list[dict] = []
    for piece in ImportRejects.query(import_id):
        content = json.loads(zlib.decompress(piece.rows))
        header = content["header"]
        found += [{"row": r, "field": f, "message": m, "cells": c} for r, f, m, c in content["rows"]]
    return header, found


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

    def write(recipient: contacts.Recipient) -> tuple[str, str]:
        contacts.upsert(recipient, now)
        due = None
        if recurring:
            enrol(campaign.id, recipient.email, now)
            if active:
                zone = schedule.valid_timezone(recipient.properties.get("timezone")) or campaign.timezone
                due = schedule.weekday_morning(now, zone, recipient.email)
        said = contacts.Recipient(recipient.email, {**recipient.guessed, **recipient.properties})  # as imported
        invitation = invitations.new_invitation(campaign, said, now, settings, due_at=due, import_id=import_id)
        return invitations.create(invitation), invitation.id

    with ThreadPoolExecutor(WRITERS) as pool:
        outcomes = list(pool.map(write, recipients))
    already = sum(outcome == "existing" for outcome, _ in outcomes)
    created = [ident for outcome, ident in outcomes if outcome != "existing"]
    invited = len(created)
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


def enrol(campaign_id: str, email: str, now: float) -> None:
    """Recurring campaigns keep a member list: asked again every N days until removed."""
    if put_new(Member(campaign_id, email, added_at=now)) is not None:
        update(Member, campaign_id, [Member.removed_at.remove()], range_key=email)


# What status returns (and start, with rejected_rows), declared once for chalicelib.admin.openapi.
IMPORT_JSON: dict[str, Any] = {
    "type": "object",
    "required": ["id", "campaign_id", "status", "rows", "accepted", "rejected"],
    "properties": {
        "id": {"type": "string"},
        "campaign_id": {"type": "string"},
        "status": {"enum": ["running", "done"]},
        "rows": {"type": "integer"},
        "accepted": {"type": "integer"},
        "duplicates_merged": {"type": "integer"},
        "rejected": {"type": "integer"},
        "invited": {"type": ["integer", "null"]},
        "already_invited": {"type": ["integer", "null"]},
        "history_kind": {
            "type": ["string", "null"],
            "description": "the kind of a Delighted history file (its `invited`: new, `already_invited`: imported "
            "before); null for recipients",
        },
        "chunks": {
            "type": "object",
            "description": "chunks of 500 recipients written so far, of all",
            "properties": {"done": {"type": ["integer", "null"]}, "total": {"type": ["integer", "null"]}},
        },
        "rejected_rows": {
            "type": "array",
            "description": "every rejected row; only in the answer to the import itself",
            "items": contacts.REJECTION_JSON,
        },
    },
}


def status(import_id: str) -> dict:
    """An import's progress; NotFound when there is no such import."""
    bind()
    try:
        job = ImportJob.get(import_id, consistent_read=True)
    except ImportJob.DoesNotExist:
        raise NotFound(f"No import {import_id!r}.", "import_id") from None
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
        "history_kind": job.history_kind,
    }
