"""Product metrics: one CloudWatch Embedded Metric Format line per event on AWS, nothing locally."""

from __future__ import annotations

import json
import time

from chalicelib.answers import survey_pages
from tests.helpers import csrf_of, launch


def _metric_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]


def _answer(token: str, score: str, now: float):
    csrf = csrf_of(survey_pages.show(token, {"a": score}, now).body)
    form = {"csrf": [csrf], "evidence": ["submit"], "q_nps": [score]}
    return survey_pages.submit(token, form, {}, now)


def test_a_first_answer_on_aws_is_one_answers_recorded_metric_and_an_edit_is_none(db, outbox, monkeypatch, capsys):
    token = launch(outbox).pages["ada@example.com"].split("/")[2]
    monkeypatch.setenv("CLOSELOOP_STAGE", "prod")
    capsys.readouterr()
    assert _answer(token, "9", time.time()).status == 200
    [line] = _metric_lines(capsys.readouterr().out)
    assert line["Stage"] == "prod" and line["AnswersRecorded"] == 1
    assert line["_aws"]["CloudWatchMetrics"] == [
        {"Namespace": "Closeloop", "Dimensions": [["Stage"]], "Metrics": [{"Name": "AnswersRecorded", "Unit": "Count"}]}
    ]
    assert _answer(token, "10", time.time()).status == 200
    assert _metric_lines(capsys.readouterr().out) == []


def test_scanner_activity_on_aws_is_counted_as_filtered_clicks(db, outbox, monkeypatch, capsys):
    token = launch(outbox, sent_ago=1).pages["ada@example.com"].split("/")[2]
    monkeypatch.setenv("CLOSELOOP_STAGE", "dev")
    capsys.readouterr()
    survey_pages.trap(token, time.time())
    assert _answer(token, "0", time.time()).status == 200  # within the delivery window: held, not recorded
    lines = _metric_lines(capsys.readouterr().out)
    assert [(line["Stage"], line.get("ScannerClicksFiltered")) for line in lines] == [("dev", 1), ("dev", 1)]


def test_the_local_stage_prints_no_metrics(db, outbox, capsys):
    token = launch(outbox).pages["ada@example.com"].split("/")[2]
    capsys.readouterr()
    assert _answer(token, "9", time.time()).status == 200
    assert _metric_lines(capsys.readouterr().out) == []
