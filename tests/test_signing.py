"""Links are signed: a tampered, forged or expired token names nothing; keys rotate."""

from __future__ import annotations

from chalicelib.core.signing import (
    InvitationRef,
    check_csrf,
    csrf_token,
    invitation_token,
    new_id,
    read_invitation_token,
    read_unsubscribe_token,
    unsubscribe_token,
)

REF = InvitationRef("camp1", new_id(), 2_000_000_000)


def test_a_token_names_its_invitation():
    token = invitation_token(REF, ("k1",))
    assert read_invitation_token(token, ("k1",), now=1_900_000_000) == REF


def test_ids_carry_128_random_bits():
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 22 for i in ids)  # 16 bytes, base64url without padding


def test_any_change_to_a_token_is_rejected():
    token = invitation_token(REF, ("k1",))
    for i, char in enumerate(token):
        tampered = token[:i] + ("A" if char != "A" else "B") + token[i + 1 :]
        assert read_invitation_token(tampered, ("k1",), now=0) is None, tampered


def test_a_token_signed_with_an_unknown_key_is_rejected():
    assert read_invitation_token(invitation_token(REF, ("attacker",)), ("k1",), now=0) is None


def test_garbage_is_rejected():
    for junk in ("", "....", "a.b.c.d.e", "x" * 500, "../../etc/passwd", "<script>"):
        assert read_invitation_token(junk, ("k1",), now=0) is None


def test_an_expired_token_is_rejected():
    token = invitation_token(REF, ("k1",))
    assert read_invitation_token(token, ("k1",), now=REF.expires_at) is None


def test_rotation_keeps_old_links_working_and_signs_with_the_newest_key():
    old = invitation_token(REF, ("old",))
    assert read_invitation_token(old, ("new", "old"), now=0) == REF
    new = invitation_token(REF, ("new", "old"))
    assert read_invitation_token(new, ("new",), now=0) == REF
    assert read_invitation_token(old, ("new",), now=0) is None


def test_csrf_tokens_are_bound_to_an_invitation_and_expire():
    token = csrf_token("inv1", now=1000, secrets=("k",))
    assert check_csrf(token, "inv1", now=1100, secrets=("k",), max_age=3600)
    assert not check_csrf(token, "inv2", now=1100, secrets=("k",), max_age=3600)
    assert not check_csrf(token, "inv1", now=1000 + 3601, secrets=("k",), max_age=3600)
    assert not check_csrf("", "inv1", now=1000, secrets=("k",), max_age=3600)
    assert not check_csrf(token, "inv1", now=1100, secrets=("other",), max_age=3600)


def test_an_unsubscribe_token_lives_400_days_from_its_message_and_survives_a_rotation():
    sent_at = 1_800_000_000
    token = unsubscribe_token(REF.campaign_id, REF.invitation_id, sent_at, ("old",))
    last_second = sent_at + 400 * 86400 - 1
    found = read_unsubscribe_token(token, ("new", "old"), now=last_second)
    assert (found.campaign_id, found.invitation_id) == (REF.campaign_id, REF.invitation_id)
    assert read_unsubscribe_token(token, ("new", "old"), now=last_second + 1) is None
    assert read_unsubscribe_token(token, ("new",), now=sent_at) is None
    assert read_invitation_token(token, ("old",), now=sent_at) is None  # it opens no survey
    assert read_unsubscribe_token(invitation_token(REF, ("old",)), ("old",), now=0) == REF  # links already sent
