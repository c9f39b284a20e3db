"""The local preview of every email and page in a chosen language (`/dev/preview`, the CLI's `preview`):
everything is there, nothing is sent or stored, and it exists on the local stage only."""

from __future__ import annotations

import time
from email import policy
from email.parser import BytesParser

import pytest
from chalice.test import Client

from chalicelib.dashboard import gallery
from chalicelib.runtime import demo
from chalicelib.store.models import MODELS
from tests.conftest import ROOT
from tests.helpers import cli, drain

ITEMS = [
    "invitation.html",
    "reminder-1.html",
    "survey.html",
    "survey-error.html",
    "thanks-promoter.html",
    "thanks-passive.html",
    "thanks-detractor.html",
    "unsubscribe.html",
    "unsubscribed.html",
    "ack-promoter.html",
    "ack-passive.html",
    "ack-detractor.html",
    "alert.html",
    "digest.html",
    "sign-in.html",
]
EMAILS = [name for name in ITEMS if name.startswith(("invitation", "reminder", "ack", "alert", "digest", "sign-in"))]


@pytest.fixture
def seeded(db, outbox):
    """The demo campaign `make run` seeds, its invitations sent into the outbox."""
    demo.seed(time.time())
    drain()
    return demo.DEMO_ID


def stored() -> dict[str, int]:
    return {model.__name__: sum(1 for _ in model.scan()) for model in MODELS}


def test_the_gallery_shows_every_email_and_page_in_two_languages_and_sends_and_stores_nothing(seeded, client, outbox):
    before, mails = stored(), sorted(outbox.glob("*.eml"))
    assert len(mails) == 4
    for locale in ("fr", "ar"):
        page = client.http.get(f"/dev/preview/{seeded}/{locale}?width=1280")
        assert page.status_code == 200
        body = page.body.decode()
        assert "locale=" + locale in body and 'class="w1280"' in body
        assert "does not offer" in body, "the demo offers English only: the customer gets English"
        for name in ITEMS:
            assert f'src="/dev/preview/{seeded}/{locale}/{name}"' in body, name
            framed = client.http.get(f"/dev/preview/{seeded}/{locale}/{name}")
            assert framed.status_code == 200, (name, framed.body[:300])
            assert "frame-ancestors 'self'" in framed.headers["Content-Security-Policy"]
            assert "Preview: nothing you do here is recorded." in framed.body.decode()
            assert len(framed.body) > 700 and b"</html>" in framed.body, name

        items = {item.name: item for item in gallery.build(gallery.sample(seeded, locale, time.time()))}
        assert list(items) == ITEMS
        assert all(item.html and not item.error for item in items.values())
        assert all(items[name].text.strip() and items[name].message["Subject"] for name in EMAILS)
        invitation = items["invitation.html"]
        assert 'href="survey.html?a=9"' in invitation.html and 'href="unsubscribe.html"' in invitation.html
        assert "/s/" not in invitation.html and "/u/" not in items["ack-detractor.html"].html
        assert str(items["reminder-1.html"].message["Subject"]).startswith("Reminder: ")
        assert "99 is outside the scale" in items["survey-error.html"].html
        assert "Sam from Customer Care" in items["ack-detractor.html"].html, "a detractor's case is open"
        assert "3 out of 10" in items["alert.html"].html
        assert "Open this link to sign in" in items["sign-in.html"].html

    clicked = client.http.get(f"/dev/preview/{seeded}/fr/survey.html?a=3").body.decode()
    assert 'value="3" checked' in clicked or 'value="3"  checked' in clicked or 'checked value="3"' in clicked
    assert stored() == before, "the preview stored or changed nothing"
    assert sorted(outbox.glob("*.eml")) == mails, "the preview sent nothing"


def test_an_unknown_campaign_language_or_item_is_a_clear_404(seeded, client):
    unknown = client.http.get("/dev/preview/nope/fr")
    assert unknown.status_code == 404 and "No campaign &#39;nope&#39;." in unknown.body.decode()
    language = client.http.get(f"/dev/preview/{seeded}/klingon")
    body = language.body.decode()
    assert (
        language.status_code == 404 and "No language &#39;klingon&#39;: use one of en, fr, de, es, pt_BR, ar." in body
    )
    assert "Português (Brasil)" in body
    item = client.http.get(f"/dev/preview/{seeded}/fr/reminder-2.html")
    assert item.status_code == 404 and "No item &#39;reminder-2.html&#39;" in item.body.decode()
    listing = client.http.get("/dev/preview")
    assert listing.status_code == 200 and f'href="/dev/preview/{seeded}/pt_BR"' in listing.body.decode()
    assert 'href="/dev/preview"' in client.http.get("/dev/outbox").body.decode()


def test_the_preview_exists_on_the_local_stage_only(seeded):
    from app import app

    with Client(app, stage_name="dev", project_dir=str(ROOT)) as deployed:
        for path in ("/dev/preview", f"/dev/preview/{seeded}/fr", f"/dev/preview/{seeded}/fr/invitation.html"):
            response = deployed.http.get(path)
            assert response.status_code == 404 and "preview" not in response.body.decode().lower(), path


def test_the_cli_writes_every_email_and_page_and_refuses_bad_input(seeded, db, outbox, tmp_path):
    before, mails = stored(), sorted(outbox.glob("*.eml"))
    folder = tmp_path / "preview"
    result = cli("preview", "--campaign", seeded, "--locale", "de", "--out", str(folder), env=db)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == f"open {folder / 'index.html'}"
    written = {line.rsplit("/", 1)[1] for line in lines[:-1]}
    expected = set(ITEMS) | {"index.html", "site.css"}
    expected |= {name.replace(".html", ext) for name in EMAILS for ext in (".txt", ".eml")}
    assert written == expected == {path.name for path in folder.iterdir()}
    assert all((folder / name).stat().st_size > 0 for name in expected)
    message = BytesParser(policy=policy.default).parse((folder / "ack-promoter.eml").open("rb"))
    assert message["Subject"] and message.get_body(("html",)).get_content()
    index = (folder / "index.html").read_text()
    assert 'href="site.css"' in index and 'src="invitation.html"' in index and 'href="sign-in.eml"' in index
    assert 'href="site.css"' in (folder / "survey.html").read_text(), "the pages open offline, styled"

    language = cli("preview", "--campaign", seeded, "--locale", "tlh", "--out", str(folder), env=db)
    assert language.returncode == 2 and "Invalid value for '--locale'" in language.stderr
    assert "'en', 'fr', 'de', 'es', 'pt_BR', 'ar'" in language.stderr
    campaign = cli("preview", "--campaign", "nope", "--locale", "fr", "--out", str(folder), env=db)
    assert campaign.returncode == 2 and "No campaign 'nope'." in campaign.stderr
    assert stored() == before and sorted(outbox.glob("*.eml")) == mails
