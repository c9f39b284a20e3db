"""Outbound calls cannot be turned inward: webhook and Slack URLs reach public addresses only, redirects are
not followed, secrets sign with a real key, and one bad endpoint never stops the others."""

from __future__ import annotations

import base64
import json

import pytest

from chalicelib.answers.counting import apply_pending
from chalicelib.campaigns import campaigns
from chalicelib.core import webhook_spec
from chalicelib.loop import webhooks
from chalicelib.store.models import Campaign
from chalicelib.web import outbound
from tests.conftest import admin_headers, read_outbox
from tests.helpers import NPS_SURVEY, drain, invitation_of, launch, submit
from tests.receiver import Receiver

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PUBLIC = "93.184.215.14"

INWARD = [
    # the issue's inputs
    "https://169.254.169.254/latest/meta-data/",
    "https://127.0.0.1/",
    "https://localhost./",
    "https://[::1]/",
    "https://[::ffff:169.254.169.254]/",
    "https://2852039166/",
    "https://0x7f.1/",
    "https://10.0.0.1/",
    # other private, shared, link-local, multicast, reserved and unspecified ranges
    "https://172.16.0.1/",
    "https://172.31.255.254/",
    "https://192.168.1.1/",
    "https://100.64.0.1/",
    "https://100.127.255.254/",
    "https://169.254.170.2/v2/credentials",
    "https://0.0.0.0/",
    "https://224.0.0.251/",
    "https://239.255.255.250/",
    "https://240.0.0.1/",
    "https://255.255.255.255/",
    "https://198.18.0.1/",
    "https://[fc00::1]/",
    "https://[fd12:3456::1]/",
    "https://[fe80::1]/",
    "https://[ff02::1]/",
    "https://[::]/",
    # the same addresses in other IPv6 forms: mapped, compatible, 6to4, NAT64
    "https://[::ffff:7f00:1]/",
    "https://[::ffff:10.0.0.1]/",
    "https://[::127.0.0.1]/",
    "https://[2002:a9fe:a9fe::1]/",
    "https://[64:ff9b::a9fe:a9fe]/",
    "https://[64:ff9b::10.0.0.1]/",
    # decimal, hex, octal and short forms of IPv4
    "https://2130706433/",
    "https://0x7f000001/",
    "https://0177.0.0.1/",
    "https://0x7f.0.0.1/",
    "https://127.1/",
    "https://10.1/",
    "https://017700000001/",
    "https://127.0.0.1./",
    # zone ids, names for this machine
    "https://[fe80::1%25eth0]/",
    "https://[fe80::1%eth0]/",
    "https://localhost/",
    "https://localhost:8443/",
    "https://api.localhost/",
    "https://LOCALHOST./",
    "https://intranet/",
]
MALFORMED = [
    "http://localhost@other-host/",
    "http://127.0.0.1@evil.example/",
    "https://h:1@hooks.example.com/",
    "https://user@hooks.example.com/",
    "https://hooks.example.com/\r\nX: y",
    "https://hooks.example.com/a b",
    "https://hooks.example.com/\x00",
    "https://hooks.example.com/\t",
    'https://hooks.example.com/"',
    "https://hooks.example.com:22/",
    "https://hooks.example.com:0/",
    "https://hooks.example.com:99999/",
    "https://hooks.example.com:x/",
    "https://[::1/",
    "https:///path",
    "http://hooks.example.com/",
    "ftp://hooks.example.com/",
    "file:///etc/passwd",
    "https://hooks_example.com/",
    "https://-hooks.example.com/",
]


def _nowhere(host: str, port: int) -> list[str]:
    raise OSError(f"{host} does not resolve")


@pytest.mark.parametrize("url", INWARD + MALFORMED)
@pytest.mark.parametrize("local", [False, True])
def test_urls_that_reach_inside_or_are_malformed_are_refused(url, local):
    with pytest.raises(outbound.Refused):
        outbound.check(url, local=local, resolver=_nowhere)


@pytest.mark.parametrize(
    ("addresses", "reason"),
    [
        (["127.0.0.1"], "loopback"),
        (["::1"], "loopback"),
        (["169.254.169.254"], "link-local"),
        (["10.0.0.5"], "private"),
        ([PUBLIC, "192.168.0.10"], "private"),  # any of its addresses, not only the first
        (["2606:2800:21f:cb07:6820:80da:af6b:8b2c", "fd00::1"], "private"),
        (["::ffff:169.254.169.254"], "link-local"),
        (["100.64.0.1"], "shared"),
        (["fe80::1%eth0"], "link-local"),
    ],
)
def test_a_name_that_resolves_inside_is_refused(addresses, reason):
    with pytest.raises(outbound.Refused, match=reason):
        outbound.check("https://hooks.example.com/in", local=True, resolver=lambda host, port: addresses)


def test_public_names_and_addresses_are_accepted():
    public = lambda host, port: [PUBLIC, "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]  # noqa: E731
    for url in (
        "https://hooks.example.com/in?token=abc%20d",
        "https://hooks.slack.com/services/T000/B000/XXXX",
        "https://hooks.example.com.:8443/in",
        f"https://{PUBLIC}/in",
        "https://[2606:4700:4700::1111]/in",
        "https://[64:ff9b::808:808]/in",  # NAT64 form of a public address
    ):
        assert outbound.check(url, local=False, resolver=public) == url


def test_the_local_stage_may_call_loopback_literals_only():
    assert outbound.check("http://127.0.0.1:8000/hook", local=True) == "http://127.0.0.1:8000/hook"
    assert outbound.check("http://[::1]:9000/hook", local=True) == "http://[::1]:9000/hook"
    for url in ("http://127.0.0.1:8000/hook", "http://localhost:8000/hook", "http://localhost@other-host/"):
        with pytest.raises(outbound.Refused):
            outbound.check(url, local=False, resolver=_nowhere)
    for url in (
        "https://127.0.0.1:8443/",
        "http://localhost:8000/",
        "http://localhost@other-host/",
        "http://10.0.0.1/",
    ):
        with pytest.raises(outbound.Refused):
            outbound.check(url, local=True, resolver=_nowhere)


def test_a_name_that_turned_private_after_it_was_saved_is_refused_at_connect():
    url = "https://hooks.example.com/in"
    assert outbound.check(url, local=False, resolver=lambda host, port: [PUBLIC]) == url
    lookups = []

    def rebound(host: str, port: int) -> list[str]:
        lookups.append((host, port))
        return ["169.254.169.254"]

    result = outbound.post_json(url, {"type": "response.created"}, local=False, resolver=rebound)
    assert (result.ok, result.permanent) == (False, True)
    assert "hooks.example.com resolves to 169.254.169.254, a link-local address" in result.detail
    assert lookups == [("hooks.example.com", 443)]  # one lookup: the address checked is the address used


def test_a_name_that_does_not_resolve_at_call_time_is_retried():
    result = outbound.post_json("https://hooks.example.com/in", {}, local=False, resolver=_nowhere)
    assert (result.ok, result.permanent) == (False, False) and "does not resolve" in result.detail


@pytest.fixture
def receivers():
    pair = Receiver(), Receiver()
    yield pair
    for receiver in pair:
        receiver.close()


def test_a_redirect_is_not_followed_and_fails_the_delivery(client, outbox, receivers):
    first, second = receivers
    first.statuses = [302]
    first.location = f"{second.url}/stolen"
    sent = launch(outbox, options={"webhooks": [{"url": f"{first.url}/hook", "secret": SECRET}]})
    submit(client, sent.pages["ada@example.com"], {"q_nps": "9"})
    apply_pending()
    drain()
    assert len(first.on("/hook")) == 1
    assert second.requests == []
    [delivery] = _deliveries(client, sent, "ada@example.com")
    assert delivery["state"] == "failed" and delivery["attempts"] == 1
    assert delivery["last_error"] == f"HTTP 302: redirects are not followed (to {second.url}/stolen)"


def _deliveries(client, sent, email):
    response = client.http.get(f"/api/responses/{invitation_of(sent, email).id}", headers=admin_headers())
    return response.json_body["response"]["deliveries"]


def test_urls_that_reach_inside_are_refused_when_the_campaign_is_saved(client):
    for url in INWARD + MALFORMED:
        for options, field in (
            ({"webhooks": [{"url": url}]}, "options.webhooks[0].url"),
            ({"slack_webhook_url": url}, "options.slack_webhook_url"),
        ):
            body = {"name": "x", "survey": NPS_SURVEY, "options": options}
            response = client.http.post("/api/campaigns", body=json.dumps(body), headers=admin_headers())
            assert (response.status_code, response.json_body["error"]["field"]) == (400, field), url
    # the receivers tests use: a loopback literal over http, in the local stage only
    body = {"name": "x", "survey": NPS_SURVEY, "options": {"webhooks": [{"url": "http://127.0.0.1:9/hook"}]}}
    assert client.http.post("/api/campaigns", body=json.dumps(body), headers=admin_headers()).status_code == 201


@pytest.mark.parametrize(
    "secret",
    [
        "whsec_" + "!!not base64 at all, but long enough!!",
        "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",  # not a multiple of 4
        "whsec_" + "MfKQ9r8G KYqrTwjUPD8ILPZIo2LaLaSw",  # whitespace
        "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n",
        "whsec_" + base64.b64encode(b"fifteen bytes!!").decode(),  # too short a key
        "whsec_",
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",  # no prefix
        "whsec_" + base64.urlsafe_b64encode(b"\xfb\xff" * 12).decode(),  # base64url, not base64
    ],
)
def test_webhook_secrets_are_decoded_strictly(client, secret):
    body = {
        "name": "x",
        "survey": NPS_SURVEY,
        "options": {"webhooks": [{"url": "https://hooks.example/in", "secret": secret}]},
    }
    response = client.http.post("/api/campaigns", body=json.dumps(body), headers=admin_headers())
    assert response.status_code == 400 and response.json_body["error"]["field"] == "options.webhooks[0].secret"
    with pytest.raises(ValueError):
        webhooks.signature(secret, "id", 1, "{}")


def test_a_sixteen_byte_secret_is_accepted_and_signs():
    secret = "whsec_" + base64.b64encode(b"sixteen bytes!!!").decode()
    assert webhook_spec.secret_key(secret) == b"sixteen bytes!!!"
    signed = webhooks.signature(secret, "id", 1, "{}")
    assert webhooks.verify(secret, {"webhook-id": "id", "webhook-timestamp": "1", "webhook-signature": signed}, "{}")


def test_a_bad_endpoint_saved_earlier_fails_alone_and_the_others_are_delivered(client, outbox, receivers):
    good, _ = receivers
    sent = launch(outbox, options={"alert_emails": ["cx@acme.example"]})
    stored = {
        **sent.campaign.options,
        "alert_emails": ["spy@evil.example\r\nBcc: x@evil.example", "cx@acme.example"],
        "slack_webhook_url": "http://h:1@host/",
        "webhooks": [
            {"id": "crlf", "url": "https://evil.example/\r\nX: y", "secret": SECRET, "events": ["response.created"]},
            {"id": "creds", "url": "http://h:1@host/", "secret": SECRET, "events": ["response.created"]},
            {"id": "meta", "url": "https://169.254.169.254/x", "secret": SECRET, "events": ["response.created"]},
            {"id": "nokey", "url": f"{good.url}/nokey", "secret": "whsec_!!", "events": ["response.created"]},
            {"id": "good", "url": f"{good.url}/hook", "secret": SECRET, "events": ["response.created"]},
        ],
    }
    Campaign(sent.campaign.id).update(actions=[Campaign.options.set(stored)])  # as saved before URLs were checked
    campaigns.forget(sent.campaign.id)
    submit(client, sent.pages["ada@example.com"], {"q_nps": "2"})
    apply_pending()
    drain()
    [hook] = good.requests
    assert hook["path"] == "/hook" and webhooks.verify(SECRET, hook["headers"], hook["body"])
    assert [str(m["To"]) for m in read_outbox(outbox)].count("cx@acme.example") == 1
    states = {
        d["key"].split("#")[1] if d["key"].startswith("webhook#") else d["key"].split("#")[-1]: d
        for d in _deliveries(client, sent, "ada@example.com")
    }
    assert states["good"]["state"] == "done" and states["cx@acme.example"]["state"] == "done"
    for key, reason in (
        ("crlf", "characters a URL cannot carry"),
        ("creds", "user name or password"),
        ("slack", "user name or password"),
        ("meta", "link-local"),
        ("nokey", "whsec_ followed by base64"),
    ):
        assert states[key]["state"] == "failed" and reason in states[key]["last_error"], key
    bad_email = states["spy@evil.example\r\nBcc: x@evil.example"]
    assert bad_email["state"] in ("retry", "failed") and bad_email["last_error"]  # its own reason, retried or not


def _certificates(tmp_path, name: str) -> tuple[str, str, str]:
    """A test CA and a certificate for `name` it signed: (ca.pem, cert.pem, key.pem)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def issue(subject, issuer, key, signer, ca: bool):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            ).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        else:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = issue("Closeloop test CA", "Closeloop test CA", ca_key, ca_key, True)
    cert = issue(name, "Closeloop test CA", key, ca_key, False)
    paths = [str(tmp_path / f) for f in ("ca.pem", "cert.pem", "key.pem")]
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths[0], paths[1], paths[2]


def test_the_call_goes_to_the_checked_address_with_the_name_for_tls(tmp_path, monkeypatch):
    """The connection is made to an address, never to the name; SNI, the certificate and Host still use the name.
    (`_post` is the step after the address check, which would refuse 127.0.0.1 for a name.)"""
    import ipaddress
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    ca, cert, key = _certificates(tmp_path, "hooks.example.com")
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append({"host": self.headers["Host"], "sni": self.connection.server_hostname_seen})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            return

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def remember_sni(sock, server_name, _context):
        sock.server_hostname_seen = server_name

    context.sni_callback = remember_sni
    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("SSL_CERT_FILE", ca)  # trust the test CA as the system's
    port = server.server_address[1]
    try:
        here = [ipaddress.ip_address("127.0.0.1")]
        target = outbound.Target("https", "hooks.example.com", port, "/in", None)
        headers = {"Host": target.host_header}
        assert outbound._post(target, here, b"{}", headers) == outbound.Result(True, False, "HTTP 204")
        assert seen == [{"host": f"hooks.example.com:{port}", "sni": "hooks.example.com"}]
        other = outbound.Target("https", "other.example.com", port, "/in", None)
        refused = outbound._post(other, here, b"{}", {"Host": other.host_header})
        assert (refused.ok, refused.permanent) == (False, False)
        assert "other.example.com" in refused.detail and "certificate" in refused.detail.lower(), refused.detail
        assert len(seen) == 1
    finally:
        server.shutdown()
        server.server_close()
