"""Every HTTP call Closeloop makes to an address a customer gave it (webhooks, Slack, later integrations).

Such a URL is chosen by whoever edits a campaign, and the call leaves from inside the AWS
account, where the instance metadata, the Lambda runtime API and private networks are one hop
away. So a URL is parsed strictly (https only, no credentials, no control characters, a sane
port, a host that is a full domain name or a public IP address written the usual way), and its
host is resolved and refused when any of its addresses is not globally routable: when the
campaign is saved (`check`) and again at each call (`post_json`), which then connects to the
address it checked, with TLS SNI and the certificate verified against the host name. Redirects
are never followed, time is bounded and at most `MAX_RESPONSE_BYTES` of the answer are read.

The local stage (tests, `make run`) may also call plain http on a loopback IP literal
(`http://127.0.0.1:8000/hook`, `http://[::1]:9000/`), and nothing else on this machine.

Why not a library: see docs/outbound.md. The address rules are the standard library's
`ipaddress` (IANA's special-purpose registries); the call is urllib3's, imported only when a
call is made, so loading a campaign on the answer path does not pay for it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

CONNECT_SECONDS = 3.0
READ_SECONDS = 5.0
MAX_RESPONSE_BYTES = 64 * 1024
MAX_URL_LENGTH = 2000
USER_AGENT = "Closeloop-Webhooks/1"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]
"""(host name, port) -> the IP addresses it resolves to, as text; raises OSError when it does not resolve."""

# RFC 3986's characters; anything else (spaces, quotes, CR/LF, non-ASCII) must be percent-encoded.
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_NUMBER = re.compile(r"(0x[0-9a-f]*|[0-9]+)")
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598 carrier-grade NAT; `is_private` leaves it out
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class Refused(ValueError):
    """A URL or address Closeloop will not call; the message says why, in words for whoever set it."""


@dataclass(frozen=True)
class Target:
    """A parsed URL: `host` is lower-case ASCII without brackets or trailing dot; `path` is the request target."""

    scheme: str
    host: str
    port: int
    path: str
    literal: IPAddress | None  # the host when it is an IP address

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


@dataclass(frozen=True)
class Result:
    """One delivery attempt: `permanent` failures will not get better by retrying."""

    ok: bool
    permanent: bool
    detail: str


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the operating system's resolver gives for a TCP connection."""
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def parse(url: Any, *, local: bool) -> Target:
    """The URL's parts, or Refused: https only (or http to a loopback IP literal in the local stage)."""
    if not isinstance(url, str) or not url:
        raise Refused("Give an https:// URL.")
    if len(url) > MAX_URL_LENGTH or not _URL_CHARS.fullmatch(url):
        raise Refused(
            "The URL has characters a URL cannot carry (spaces, quotes, line breaks, non-ASCII): percent-encode them."
        )
    try:
        parts = urlsplit(url)
    except ValueError:
        raise Refused("The URL's host is not a name or an IP address.") from None
    if parts.scheme not in ("https", "http"):
        raise Refused("Give an https:// URL.")
    if "@" in parts.netloc:
        raise Refused("A URL with a user name or password in it is refused: give credentials in the path or query.")
    try:
        port = parts.port
    except ValueError:
        raise Refused("The port is not a number from 1 to 65535.") from None
    host = parts.hostname
    if not host:
        raise Refused("The URL has no host.")
    literal = _host_literal(host, parts.netloc)
    if literal is None:
        host = _host_name(host)
    loopback = local and literal is not None and literal.is_loopback
    if parts.scheme == "http" and not loopback:
        raise Refused("Give an https:// URL (plain http only to 127.0.0.1 in the local stage).")
    default = 443 if parts.scheme == "https" else 80
    port = default if port is None else port
    if not (port == default or 1024 <= port <= 65535 or (loopback and port > 0)):
        raise Refused(f"Port {port} is refused: use 443 or a port from 1024 to 65535.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, str(literal) if literal is not None else host, port, path, literal)


def _host_literal(host: str, netloc: str) -> IPAddress | None:
    if "%" in host:
        raise Refused("An address with a zone id (%) is refused.")
    if netloc.startswith("["):
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            raise Refused(f"[{host}] is not an IPv6 address.") from None
    try:
        return ipaddress.IPv4Address(host)
    except ValueError:
        return None


def _host_name(host: str) -> str:
    name = host[:-1] if host.endswith(".") else host
    labels = name.split(".")
    if _NUMBER.fullmatch(labels[-1]):
        # What browsers and inet_aton read as an IPv4 address: 2852039166, 0x7f.1, 0177.0.0.1, 127.1.
        raise Refused(f"{host} is an IP address in a shorthand, decimal, octal or hex form: write it as 1.2.3.4.")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise Refused(f"{host!r} is not a host name.")
    if labels[-1] == "localhost":
        raise Refused(f"{host} is this machine.")
    if len(labels) < 2:
        raise Refused(f"{host} is not a full domain name (such as hooks.example.com).")
    return name


def problem(address: IPAddress) -> str | None:
    """Why an address must not be called, or None when it is globally routable."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        reason = problem(embedded)
        return f"an IPv6 form of {embedded}, {reason}" if reason else None
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_loopback:
        return "a loopback address (this machine)"
    if address.is_link_local:
        return "a link-local address (where cloud instance metadata lives)"
    if address.is_multicast:
        return "a multicast address"
    if address in _SHARED:
        return "a shared address (carrier-grade NAT)"
    if address.is_private:
        return "a private address"
    if address.is_reserved or not address.is_global:
        return "a reserved address, not routable on the internet"
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d), 6to4, NAT64."""
    if address.version == 4:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if int(address) >> 32 == 0 and int(address) > 1:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if any(address in network for network in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def addresses(target: Target, *, local: bool, resolver: Resolver = system_resolver) -> list[IPAddress]:
    """The addresses to connect to, each checked; Refused if any of them is not public.

    Raises OSError when the name does not resolve."""
    if target.literal is not None:
        found = [target.literal]
        if local and target.scheme == "http" and target.literal.is_loopback:
            return found
    else:
        found = list(dict.fromkeys(ipaddress.ip_address(a) for a in resolver(target.host, target.port)))
        if not found:
            raise OSError(f"{target.host} has no address")
    for address in found:
        reason = problem(address)
        if reason:
            where = "is" if target.literal is not None else f"resolves to {address},"
            raise Refused(f"{target.host} {where} {reason}; Closeloop calls only public internet addresses.")
    return found


def check(url: Any, *, local: bool, resolver: Resolver = system_resolver) -> str:
    """The URL when it may be saved; Refused otherwise.

    A name that does not resolve yet is accepted: each call resolves and checks it again."""
    target = parse(url, local=local)
    with contextlib.suppress(OSError, UnicodeError):
        addresses(target, local=local, resolver=resolver)
    return url


def post_json(
    url: str,
    payload: Any,
    headers: dict[str, str] | None = None,
    *,
    local: bool,
    resolver: Resolver = system_resolver,
) -> Result:
    """POST JSON to a checked address of `url`; never raises for a bad URL, address or answer.

    2xx is success; a refused URL or address, a redirect and 4xx other than 408/429 are
    permanent failures; other failures are retried by the caller (chalicelib.sending.ledger)."""
    try:
        target = parse(url, local=local)
    except Refused as exc:
        return Result(False, True, f"refused: {exc}")
    try:
        found = addresses(target, local=local, resolver=resolver)
    except Refused as exc:
        return Result(False, True, f"refused: {exc}")
    except (OSError, UnicodeError) as exc:
        return Result(False, False, f"unreachable: {target.host} does not resolve ({exc})")
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    sent_headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **(headers or {}),
        "Host": target.host_header,
    }
    return _post(target, found, body, sent_headers)


def _post(target: Target, found: list[IPAddress], body: bytes, headers: dict[str, str]) -> Result:
    """Connect to each checked address in turn until one answers; no DNS lookup happens here."""
    import urllib3

    timeout = urllib3.Timeout(connect=CONNECT_SECONDS, read=READ_SECONDS)
    detail = "unreachable"
    for address in found:
        if target.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                str(address), target.port, timeout=timeout, retries=False, maxsize=1, server_hostname=target.host
            )
        else:
            pool = urllib3.HTTPConnectionPool(str(address), target.port, timeout=timeout, retries=False, maxsize=1)
        try:
            response = pool.urlopen(
                "POST",
                target.path,
                body=body,
                headers=headers,
                redirect=False,
                retries=False,
                assert_same_host=False,
                preload_content=False,
                decode_content=False,
            )
        except (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError) as exc:
            detail = f"unreachable: {target.host} at {address}: {exc}"
            continue
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            return Result(False, False, f"failed: {target.host} at {address}: {exc}")
        finally:
            pool.close()
        try:
            excerpt = response.read(MAX_RESPONSE_BYTES, decode_content=False)
        except (urllib3.exceptions.HTTPError, OSError):
            excerpt = b""  # the status decides; the body is only quoted in a failure's reason
        finally:
            response.close()
        return _result(response.status, response.headers.get("Location"), excerpt)
    return Result(False, False, detail)


def _result(status: int, location: str | None, excerpt: bytes) -> Result:
    if 200 <= status < 300:
        return Result(True, False, f"HTTP {status}")
    if 300 <= status < 400:
        return Result(False, True, f"HTTP {status}: redirects are not followed (to {(location or '?')[:200]})")
    said = excerpt[:200].decode("utf-8", "replace").strip()
    return Result(
        False, 400 <= status < 500 and status not in (408, 429), f"HTTP {status}" + (f": {said}" if said else "")
    )
