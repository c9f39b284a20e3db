"""Delighted's v1 JSON, built from our contacts, invitations and suppressions (field names as Delighted
documented them; times in whole epoch seconds)."""

from __future__ import annotations

from typing import Any

from chalicelib.campaigns.campaigns import CampaignView
from chalicelib.core.counters import plain
from chalicelib.core.errors import CloseloopError
from chalicelib.store.models import Contact, Invitation

NAME = "name"  # Delighted's person name, kept as the contact's `name` property


def seconds(epoch: float | None) -> int | None:
    return None if epoch is None else int(epoch)


def person_json(contact: Contact) -> dict[str, Any]:
    """{id, email, name, phone_number (always null: email only), created_at, last_sent_at, properties}."""
    properties = plain(contact.properties)
    return {
        "id": contact.id,
        "email": contact.email,
        "name": properties.pop(NAME, None),
        "phone_number": None,
        "created_at": seconds(contact.created_at),
        "last_sent_at": seconds(contact.last_surveyed_at),
        "properties": properties,
    }


def survey_type(campaign: CampaignView | None) -> str:
    """nps, csat or ces as Delighted named its surveys; our other first questions are reported as they are."""
    if campaign is None:
        return "nps"
    return "nps" if campaign.survey.nps_question else campaign.survey.first.type


def comment_of(invitation: Invitation, campaign: CampaignView | None) -> str | None:
    """The comment field, or else the answer to the survey's first text question."""
    if invitation.comment or campaign is None:
        return invitation.comment
    question = campaign.survey.comment_question
    answer = plain(invitation.answers).get(question.id) if question else None
    return answer if isinstance(answer, str) and answer else None


def _value(kind: str, answer: Any) -> dict[str, Any]:
    if kind == "text":
        return {"free_response": answer}
    if kind == "single_choice":
        return {"select_one": {"text": answer}}
    if kind == "multi_choice":
        return {"select_many": [{"text": choice} for choice in answer]}
    return {"scale": answer}


def additional_answers(invitation: Invitation, campaign: CampaignView | None) -> list[dict[str, Any]]:
    """Every answer but the score's and the comment's: {id, value: {free_response | scale | select_one |
    select_many}, question: {id, type, text}}; then the answers imported from Delighted to questions the
    campaign does not ask, as they were imported (the admin API's `other_answers`)."""
    return [*_asked(invitation, campaign), *_imported(invitation.additional_answers)]


def _imported(kept: Any) -> list[dict[str, Any]]:
    """Answers an import kept as Delighted gave them, in its shape: their question's id, type and text as
    given (an answer kept without a question object has none); the objects alone (early imports kept any value)."""
    found = []
    for item in kept if isinstance(kept, list) else []:
        if not isinstance(item, dict):
            continue
        question = item.get("question") if isinstance(item.get("question"), dict) else {}
        found.append(
            {
                "id": item.get("id"),
                "value": item.get("value") if isinstance(item.get("value"), dict) else {},
                "question": {"id": question.get("id"), "type": question.get("type"), "text": question.get("text")},
            }
        )
    return found


def _asked(invitation: Invitation, campaign: CampaignView | None) -> list[dict[str, Any]]:
    """The answers to the campaign's own questions but the score's and the comment's."""
    if campaign is None:
        return []
    answers = plain(invitation.answers)
    headline = campaign.survey.nps_question or campaign.survey.first
    comment = campaign.survey.comment_question if not invitation.comment else None
    found = []
    for question in campaign.survey.questions:
        if question.id not in answers or question in (headline, comment):
            continue
        found.append(
            {
                "id": question.id,
                "value": _value(question.type, answers[question.id]),
                "question": {"id": question.id, "type": question.type, "text": question.text},
            }
        )
    return found


def note_json(note: Any) -> dict[str, Any]:
    entry = plain(note)
    return {
        "id": entry.get("id"),
        "text": entry.get("text"),
        "user_email": entry.get("user_email"),
        "created_at": seconds(entry.get("created_at")),
    }


def response_json(
    invitation: Invitation,
    campaign: CampaignView | None,
    person: Contact | None,
    expand: frozenset[str],
    permalink: str,
) -> dict[str, Any]:
    """A survey response: {id, person (its id, or the person with expand[]=person), survey_type, score,
    comment, permalink, created_at, updated_at, person_properties, notes (with expand[]=notes), tags,
    additional_answers}."""
    if "person" in expand and person is not None:
        who: Any = person_json(person)
    else:
        who = person.id if person is not None else None
    body = {
        "id": invitation.id,
        "person": who,
        "survey_type": survey_type(campaign),
        "score": None if invitation.score is None else int(invitation.score),
        "comment": comment_of(invitation, campaign),
        "permalink": permalink,
        "created_at": seconds(invitation.answered_at),
        "updated_at": seconds(invitation.updated_at or invitation.answered_at),
        "person_properties": plain(invitation.properties),
        "tags": list(invitation.tags or []),
        "additional_answers": additional_answers(invitation, campaign),
    }
    if "notes" in expand:
        body["notes"] = [note_json(note) for note in invitation.notes or []]
    return body


def error_json(exc: CloseloopError) -> dict[str, Any]:
    """Delighted's error body for one of our errors, with its message and field (see error_body)."""
    return error_body(v1_status(exc), exc.message, exc.field)


def error_body(status: int, message: str, field: str | None = None) -> dict[str, Any]:
    """Every v1 error's body, Delighted's: {status, message, errors: [{field, message}]}; `field` names the
    input at fault (a body field, a parameter, `body`, `Content-Type`, `Authorization`), null when no input
    is (a rate, a method, a path)."""
    return {"status": status, "message": message, "errors": [{"field": field, "message": message}]}


def v1_status(exc: CloseloopError) -> int:
    """Delighted answered a request it could not take with 422, where our admin API says 400."""
    return 422 if exc.status == 400 else exc.status
