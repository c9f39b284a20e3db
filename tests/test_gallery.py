"""The local preview of every email and page in a chosen language (`/dev/preview`, the CLI's `preview`):
everything is there, nothing is sent or stored, and it exists on the local stage only."""

from __future__ import annotations

import time
from email import policy
from email.parser import BytesParser

import pytest
from chalice.test import Client
from playwright.sync_api import expect

from chalicelib.dashboard import gallery
from chalicelib.runtime import demo
from chalicelib.store.models import MODELS
from localdev.pagecheck import axe_violations, nu_errors
from tests import test_browser
from tests.conftest import ROOT
from tests.helpers import cli, drain, launch
from tests.test_phones import DESKTOP, fits

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
# the browser test's pages as tests/test_browser.py has them (script errors and CSP refusals fail it)
new_page, expected_errors = test_browser.new_page, test_browser.expected_errors
EMAILS = [name for name in ITEMS if name.startswith(("invitation", "reminder", "ack", "alert", "digest", "sign-in"))]
# What the CX team's alert, sign-in and digest say in the gallery's chosen language.
TEAM_WORDS = {
    "fr": {
        "alert": "3 sur 10",
        "sign-in": "Ouvrez ce lien pour vous connecter",
        "digest": "Résumé hebdomadaire",
        "dir": "ltr",
    },
    "ar": {"alert": "3 من 10", "sign-in": "افتح هذا الرابط لتسجيل الدخول", "digest": "الملخص الأسبوعي", "dir": "rtl"},
}


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
        assert 'name="q_nps" value="9" checked' in items["survey.html"].html
        assert "99 is outside the scale" in items["survey-error.html"].html
        assert "Sam from Customer Care" in items["ack-detractor.html"].html, "a detractor's case is open"
        # the CX team's mails speak the chosen language too
        team = TEAM_WORDS[locale]
        assert team["alert"] in items["alert.html"].html and team["sign-in"] in items["sign-in.html"].html
        assert f'<html lang="{locale}" dir="{team["dir"]}">' in items["digest.html"].html
        assert team["digest"] in items["digest.html"].html

    clicked = client.http.get(f"/dev/preview/{seeded}/fr/survey.html?a=3").body.decode()
    assert 'name="q_nps" value="3" checked' in clicked and 'value="9" checked' not in clicked
    assert stored() == before, "the preview stored or changed nothing"
    assert sorted(outbox.glob("*.eml")) == mails, "the preview sent nothing"


def test_a_survey_without_nps_gets_one_thank_you_and_acknowledgement_and_its_own_answers(db, outbox):
    survey = {
        "questions": [
            {"id": "channel", "type": "single_choice", "text": "How did you reach us?", "options": ["Phone", "Chat"]},
            {"id": "better", "type": "text", "text": "What should we improve?"},
        ]
    }
    sent = launch(outbox, survey=survey, options={"company": "Acme"})
    before = stored()
    items = {item.name: item for item in gallery.build(gallery.sample(sent.campaign.id, "es", time.time()))}
    assert list(items) == [
        "invitation.html",
        "survey.html",
        "survey-error.html",
        "thanks-neutral.html",
        "unsubscribe.html",
        "unsubscribed.html",
        "ack-neutral.html",
        "alert.html",
        "digest.html",
        "sign-in.html",
    ]
    assert all(item.html and not item.error for item in items.values())
    assert items["survey.html"].title == "Survey page, Chat clicked in the email"
    assert 'value="Chat" checked' in items["survey.html"].html
    assert "“99” is not one of the choices." in items["survey-error.html"].html
    # the text question's answer is the comment, in the language the customer gets (Acme offers English only)
    assert "support answered quickly" in items["thanks-neutral.html"].html
    assert stored() == before


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


@pytest.mark.browser
def test_the_preview_pages_fit_a_phone_pass_axe_and_the_nu_checker_and_link_email_to_page(
    app_url, outbox, new_page, tmp_path
):
    demo.seed(time.time())
    drain()
    pages = {"campaigns and languages": f"{app_url}/dev/preview", "gallery": f"{app_url}/dev/preview/demo/ar"}
    seen: dict[str, str] = {}
    for name, url in pages.items():
        phone = new_page(viewport={"width": 360, "height": 800})
        phone.goto(url)
        if name == "gallery":  # its frames are 390 px wide, each in a region that scrolls; the page does not
            sizes = phone.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            assert sizes[0] <= sizes[1], f"the gallery scrolls sideways at 360 px: {sizes}"
        else:
            fits(phone, f"{name} at 360 px")
        phone.screenshot(path=tmp_path / f"preview-{name}-360.png", full_page=True)
        desktop = new_page(viewport={"width": DESKTOP, "height": 900})
        desktop.goto(url)
        assert axe_violations(desktop, ["wcag2a", "wcag2aa"]) == [], name
        seen[name] = desktop.content()
    assert nu_errors(seen, tmp_path / "nu") == []

    page = new_page(viewport={"width": DESKTOP, "height": 900})
    page.goto(pages["gallery"])
    invitation = page.frame_locator('iframe[src$="/invitation.html"]')
    invitation.get_by_role("link", name="3", exact=True).click()
    expect(invitation.locator('input[name=q_nps][value="3"]')).to_be_checked()
    expect(invitation.get_by_text("Preview: nothing you do here is recorded.")).to_be_visible()
