"""Logs never fail: whatever a client sends is logged, escaped, as Powertools JSON lines."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from conftest import call
from recognito.logs import log_json, structured_formatter


def test_any_text_becomes_a_json_line_that_reads_back_as_sent():
    sent = {"reason": "x\ud800y \\\udfff Ünïcödé 😀 \x1b[31m\n", "object": object()}
    line = log_json(sent)
    line.encode("utf-8")  # a lone surrogate used to make this raise UnicodeEncodeError
    assert "\n" not in line and "Ünïcödé" in line
    assert json.loads(line)["reason"] == sent["reason"]


class _Strict(logging.Handler):
    """Keeps each formatted line, written as a UTF-8 stream would write it; collects failures."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.failures: list[BaseException | None] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            line.encode("utf-8")  # what a strict stream (Lambda's stdout) does with it
            self.lines.append(line)
        except Exception as error:  # logging's own handlers print these and lose the line
            self.failures.append(error)


@contextmanager
def _captured(name: str, formatter: logging.Formatter) -> Iterator[_Strict]:
    handler = _Strict()
    handler.setFormatter(formatter)
    logger = logging.getLogger(name)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.mark.usefixtures("aws")
def test_a_refused_request_with_a_lone_surrogate_is_logged():
    from recognito.protocol.api import logger

    with _captured("recognito", logger.registered_formatter) as captured:
        status, error = call("CreateCollection", '{"CollectionId": "a\\ud800b"}')
    assert (status, error["__type"]) == (400, "ValidationException")
    assert captured.failures == []
    lines = [json.loads(line) for line in captured.lines]
    refused = [line for line in lines if line["message"] == "request refused"]
    assert refused and "a\ud800b" in refused[0]["reason"]
    assert refused[0]["operation"] == "CreateCollection" and refused[0]["error"] == "ValidationException"


def test_the_local_servers_own_lines_are_structured_and_escaped(tmp_path):
    from moto import mock_aws
    from recognito_local.persistence import StateStore
    from recognito_local.server import LocalEndpoint
    from werkzeug.test import Client

    with mock_aws(), _captured("recognito_local", structured_formatter("recognito-local")) as captured:
        client = Client(LocalEndpoint(StateStore(tmp_path)))
        reply = client.post("/", data=b"{}", headers={"X-Amz-Target": "Rekognition\x1b[2J\x07.ListCollections"})
    assert reply.status_code == 400 and captured.failures == []
    (line,) = [json.loads(text) for text in captured.lines]
    assert line["service"] == "recognito-local" and line["level"] == "INFO"
    assert line["status"] == 400 and line["duration_ms"] >= 0
    assert line["target"] == "Rekognition\x1b[2J\x07.ListCollections"  # escaped on the wire, intact once read
    assert "\x1b" not in captured.lines[0]
