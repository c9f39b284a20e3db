"""Sign-in by emailed one-time link, and the sessions it starts.

A link is valid LINK_SECONDS and works once. Mail scanners open every link in a message, so
opening it changes nothing: only the POST of its page's form (with that page's CSRF token)
consumes it. Only SHA-256 hashes of link tokens and session ids are stored, so a read of the
tables signs nobody in. The session cookie carries the id and an HMAC of it (`core.signing`), so a
forged cookie fails without a database read; the item ends at sign-out, after IDLE_SECONDS
without a request, or ABSOLUTE_SECONDS after sign-in. Each session's CSRF token is an HMAC of its
id: it needs no storage and is worthless without the cookie's id.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

from chalicelib import mail
from chalicelib.admin import ratelimit
from chalicelib.campaigns.contacts import email_address
from chalicelib.core import i18n, signing
from chalicelib.core.config import Settings, get_settings, team_locale
from chalicelib.core.errors import Forbidden, Gone, TooManyRequests, ValidationError
from chalicelib.dashboard.people import Person, get_person, person_since
from chalicelib.store.models import DashboardSession, SignInLink
from chalicelib.store.transact import ConditionFailed, update
from chalicelib.web.render import render

HOME = "/dashboard"
SIGN_IN = "/dashboard/sign-in"
COOKIE = "closeloop_dashboard"
LINK_SECONDS = 15 * 60
SUBJECT = i18n.Text("Your Closeloop sign-in link")  # in the team's language (CLOSELOOP_TEAM_LOCALE)
IDLE_SECONDS = 12 * 3600
ABSOLUTE_SECONDS = 7 * 86400
TOUCH_SECONDS = 300  # last_seen is written at most this often, not on every request
FORM_MAX_AGE = 86400  # how long a sign-in form's CSRF token stays good
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_NONCE = re.compile(r"^[A-Za-z0-9_-]{22}$")  # form_nonce's 16 random bytes
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignedIn:
    person: Person
    session_id: str  # the raw id the cookie carries; only its hash is stored
    csrf: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def safe_next(raw: object) -> str:
    """`raw` when it is a path of our own dashboard (`/dashboard`, `/dashboard/...`, `/dashboard?...`),
    else HOME: never another site (`//host`, `https://host`, backslashes that browsers read as
    slashes), never `.`/`..` segments, nothing percent-encoded into one of those. The query may hold
    anything printable (`?q=a//b` is a search)."""
    if not isinstance(raw, str) or not raw or len(raw) > 2000 or not (raw + unquote(raw)).isprintable():
        return HOME
    path = raw.split("?", 1)[0].split("#", 1)[0]
    for text in (path, unquote(path)):
        if "\\" in text or "//" in text:
            return HOME
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or not (parts.path == HOME or parts.path.startswith(HOME + "/")):
        return HOME
    if any(segment in (".", "..") for segment in unquote(parts.path).split("/")):
        return HOME
    return raw


# --- sign-in links ----------------------------------------------------------------------------


def form_csrf(now: float, settings: Settings) -> str:
    """The sign-in form's token: there is no session yet, so it is signed and dated instead."""
    return signing.csrf_token("dashboard-sign-in", now, settings.require_signing_secrets())


def check_form_csrf(token: str, now: float, settings: Settings) -> bool:
    return signing.check_csrf(token, "dashboard-sign-in", now, settings.require_signing_secrets(), FORM_MAX_AGE)


def request_link(raw_email: object, next_path: object, client: str, now: float) -> str:
    """Email a sign-in link when the address belongs to a dashboard user; returns the normalised address.

    The caller shows the same page whether or not a link was sent, so nobody learns who may sign in.
    Raises ValidationError (field email) for something that is not an address, TooManyRequests (429)
    past the limits per address and per client (ratelimit.LIMITS) (`client`: e.g. the source IP).
    """
    email = email_address(raw_email)
    try:
        ratelimit.check(_hash(email), "sign-in-address", now)
        ratelimit.check(_hash(client), "sign-in-client", now)
    except TooManyRequests as exc:
        minutes = -(-exc.retry_after // 60)
        raise TooManyRequests(
            f"Too many sign-in links were asked for, for this address or from this network: "
            f"try again in {minutes} minute{'s' if minutes != 1 else ''}.",
            exc.retry_after,
        ) from None
    person = get_person(email)
    if person is None:
        return email
    token = signing.new_id(32)
    SignInLink(
        _hash(token),
        email=email,
        next_path=safe_next(next_path),
        created_at=now,
        expires_at=now + LINK_SECONDS,
        expires=datetime.fromtimestamp(now + 2 * 86400, UTC),
    ).save()
    settings = get_settings()
    context = {"person": person, "link": f"{settings.base_url}{SIGN_IN}/{token}", "minutes": LINK_SECONDS // 60}
    locale = team_locale()
    try:
        mail.get_mailer(settings).send(
            mail.build_message(
                sender=settings.sender,
                to=email,
                subject=i18n.translate(SUBJECT, locale),
                text=render("email/sign_in.txt", locale, **context),
                html=render("email/sign_in.html", locale, **context),
            ),
            tags={"purpose": "dashboard-sign-in"},
        )
    except mail.MailError as exc:  # the page stays the same (no enumeration); the operator sees why in the log
        logger.warning("dashboard sign-in link not sent: %s", exc)
    return email


def check_link(token: str, now: float) -> SignInLink:
    """The link a token names, still usable; Gone (410) when used or expired, ValidationError (400) when unknown."""
    link = None
    if _TOKEN.match(token or ""):
        try:
            link = SignInLink.get(_hash(token), consistent_read=True)
        except SignInLink.DoesNotExist:
            link = None
    return _usable(link, now)


def _usable(link: SignInLink | None, now: float) -> SignInLink:
    if link is None:
        raise ValidationError("This sign-in link is not valid: it may have been cut short when it was copied.")
    if link.used_at is not None:
        raise Gone("This sign-in link has already been used: each link works once.")
    if link.expires_at <= now:
        raise Gone(f"This sign-in link has expired: links work for {LINK_SECONDS // 60} minutes.")
    return link


def link_csrf(token: str, now: float, settings: Settings) -> str:
    """The token of the link page's Sign in form, bound to that one link."""
    return signing.csrf_token(f"link.{_hash(token)[:32]}", now, settings.require_signing_secrets())


def consume_link(token: str, csrf: str, now: float) -> tuple[SignedIn, str]:
    """Use the link once and start a session: (the session, where to go next).

    Raises Forbidden (403) for a missing or wrong CSRF token (the link stays usable), and what
    `check_link` raises; the link is spent only when the session starts.
    """
    settings = get_settings()
    check_link(token, now)
    if not signing.check_csrf(
        csrf, f"link.{_hash(token)[:32]}", now, settings.require_signing_secrets(), LINK_SECONDS + 600
    ):
        raise Forbidden("This form has expired or was not sent by this page: open the link again.", "csrf")
    try:
        update(
            SignInLink,
            _hash(token),
            [SignInLink.used_at.set(now)],
            SignInLink.token_hash.exists() & SignInLink.used_at.does_not_exist() & (SignInLink.expires_at > now),
        )
    except ConditionFailed:
        check_link(token, now)  # used or expired in the meantime: says which
        raise Gone("This sign-in link has already been used: each link works once.") from None
    link = SignInLink.get(_hash(token), consistent_read=True)
    found = person_since(link.email)
    if found is None or link.created_at < found[1]:  # removed since the link was sent, perhaps added again
        raise Forbidden("This address can no longer sign in with this link: ask for a new one or ask an admin.")
    return start_session(found[0], now, settings), link.next_path


# --- sessions ---------------------------------------------------------------------------------


def start_session(person: Person, now: float, settings: Settings | None = None) -> SignedIn:
    settings = settings or get_settings()
    session_id = signing.new_id(32)
    DashboardSession(
        _hash(session_id),
        email=person.email,
        created_at=now,
        last_seen=now,
        expires=datetime.fromtimestamp(now + ABSOLUTE_SECONDS, UTC),
    ).save()
    return SignedIn(person, session_id, _csrf(session_id, settings))


def _csrf(session_id: str, settings: Settings) -> str:
    return signing.sign("dashboard-csrf", session_id, settings.require_signing_secrets())


def cookie_value(session_id: str, settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    return f"{session_id}.{signing.sign('dashboard-session', session_id, settings.require_signing_secrets())}"


def set_cookie(session_id: str, settings: Settings | None = None) -> str:
    """The Set-Cookie header value that starts a session in the browser."""
    settings = settings or get_settings()
    return _cookie(cookie_value(session_id, settings), ABSOLUTE_SECONDS, settings)


def clear_cookie(settings: Settings | None = None) -> str:
    return _cookie("", 0, settings or get_settings())


def _cookie(value: str, max_age: int, settings: Settings) -> str:
    secure = "" if settings.is_local else "; Secure"
    return f"{COOKIE}={value}; Path={HOME}; Max-Age={max_age}; HttpOnly{secure}; SameSite=Lax"


def _session_id(cookie_header: str | None, settings: Settings) -> str | None:
    """The id a genuine cookie carries, or None; no database read."""
    for part in (cookie_header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name != COOKIE:
            continue
        session_id, _, signature = value.partition(".")
        if _TOKEN.match(session_id) and signing.verify(
            "dashboard-session", session_id, signature, settings.require_signing_secrets()
        ):
            return session_id
    return None


def check_session(cookie_header: str | None, now: float) -> SignedIn | None:
    """The signed-in person a request's Cookie header names, or None (no cookie, forged, signed out,
    idle for IDLE_SECONDS, older than ABSOLUTE_SECONDS, or its user was removed, even if added again
    since). The role is read on every request, so a change of role applies from the next one."""
    settings = get_settings()
    session_id = _session_id(cookie_header, settings)
    if session_id is None:
        return None
    try:
        session = DashboardSession.get(_hash(session_id))
    except DashboardSession.DoesNotExist:
        return None
    found = person_since(session.email)
    if (
        found is None
        or session.created_at < found[1]
        or now - session.last_seen > IDLE_SECONDS
        or now - session.created_at > ABSOLUTE_SECONDS
    ):
        session.delete()
        return None
    person = found[0]
    if now - session.last_seen > TOUCH_SECONDS:
        session.update([DashboardSession.last_seen.set(now)])
    return SignedIn(person, session_id, _csrf(session_id, settings))


def session_id_of(cookie_header: str | None) -> str | None:
    """The session id a genuine cookie carries (its item may be gone), or None."""
    return _session_id(cookie_header, get_settings())


def check_csrf(signed_in: SignedIn, token: object) -> bool:
    settings = get_settings()
    return isinstance(token, str) and signing.verify(
        "dashboard-csrf", signed_in.session_id, token, settings.require_signing_secrets()
    )


def form_nonce() -> str:
    """The nonce of a form that must take effect once (its hidden `once` field), new on every render."""
    return signing.new_id(16)


def spend_form_nonce(session_id: str, nonce: object) -> bool:
    """Record that this session posted the form carrying `nonce`; False when it did already (a reload,
    Back and Forward, a second click); ValidationError when `nonce` is not one form_nonce makes. One
    conditional UpdateItem, so of two racing posts one wins. Kept on the session's item: the only session
    whose CSRF token the form carries, so the record lasts exactly as long as anyone could post it again."""
    if not isinstance(nonce, str) or not _NONCE.match(nonce):
        raise ValidationError("This form is out of date: reload the page and send it again.", "once")
    try:
        update(
            DashboardSession,
            _hash(session_id),
            [DashboardSession.spent_forms.add({nonce})],
            DashboardSession.id_hash.exists() & ~DashboardSession.spent_forms.contains(nonce),
        )
    except ConditionFailed:
        return False
    return True


def unspend_form_nonce(session_id: str, nonce: str) -> None:
    """Forget a spent nonce whose work failed, so posting the form again does it."""
    with contextlib.suppress(ConditionFailed):  # signed out meanwhile: nothing to forget
        update(
            DashboardSession,
            _hash(session_id),
            [DashboardSession.spent_forms.delete({nonce})],
            DashboardSession.id_hash.exists(),
        )


def end_session(session_id: str) -> None:
    """Sign out: the session's item goes, so its cookie opens nothing anywhere, even if kept."""
    DashboardSession(_hash(session_id)).delete()
