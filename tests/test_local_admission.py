"""`recognito serve`'s admission control: a bounded number of inferences, a bounded queue, and
ThrottlingException beyond it (bench/overload.py measures latency and memory under load)."""

from __future__ import annotations

import json
import threading
import time

import pytest
from moto import mock_aws
from recognito_local import admission
from recognito_local.admission import REQUEST_MB, RESERVED_MB, Admission, Overloaded, budget_mb
from recognito_local.persistence import StateStore
from recognito_local.server import LocalEndpoint
from werkzeug.test import Client

WAIT = 10  # seconds: only a bound against hanging, never an assertion on speed


def test_budgets_are_read_as_sizes():
    assert [budget_mb(text) for text in ("4G", "4GB", "2048M", "3000", "off")] == [4096, 4096, 2048, 3000, 0]
    with pytest.raises(ValueError):
        budget_mb("-1G")


def test_slots_follow_the_cores_and_the_memory_budget():
    roomy = Admission(budget=64 * 1024, cores=2)
    tight = Admission(budget=RESERVED_MB + REQUEST_MB, cores=8)
    starved = Admission(budget=512, cores=8)

    assert (roomy.family_slots, tight.family_slots, tight.total_slots) == (2, 1, 1)
    assert starved.total_slots == 1  # never refuse every inference


def test_beyond_the_slot_and_the_queue_a_request_is_refused_at_once():
    gate = Admission(budget=RESERVED_MB + REQUEST_MB, cores=1)  # one DetectFaces at a time
    holding, release = threading.Event(), threading.Event()
    finished: list[str] = []

    def hold() -> None:
        with gate.admit("DetectFaces"):
            holding.set()
            release.wait(WAIT)
        finished.append("held")

    def queued() -> None:
        with gate.admit("DetectFaces"):
            finished.append("queued")

    threads = [threading.Thread(target=hold)]
    threads[0].start()
    assert holding.wait(WAIT)
    threads += [threading.Thread(target=queued) for _ in range(admission.QUEUE_PER_SLOT)]
    for thread in threads[1:]:
        thread.start()
    _until(lambda: gate._families["centerface"].waiting == admission.QUEUE_PER_SLOT)

    began = time.monotonic()
    with pytest.raises(Overloaded), gate.admit("SearchFacesByImage"):  # same family (centerface)
        pass
    assert time.monotonic() - began < WAIT
    with gate.admit("CreateUser"):  # runs no model: never waits
        pass

    release.set()
    for thread in threads:
        thread.join(WAIT)
    assert sorted(finished) == ["held"] + ["queued"] * admission.QUEUE_PER_SLOT


def test_a_refused_request_is_answered_with_throttling_exception(tmp_path, monkeypatch):
    monkeypatch.setattr(admission, "QUEUE_PER_SLOT", 0)
    gate = Admission(budget=RESERVED_MB + REQUEST_MB, cores=1)
    with mock_aws(), gate.admit("DetectFaces"):
        client = Client(LocalEndpoint(StateStore(tmp_path / "data"), gate))
        response = client.post(
            "/",
            data=json.dumps({"Image": {"Bytes": "AAAA"}}),
            headers={"X-Amz-Target": "RekognitionService.DetectFaces", "Content-Type": "application/x-amz-json-1.1"},
        )

    assert response.status_code == 400
    assert json.loads(response.data)["__type"] == "ThrottlingException"


def _until(condition) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "condition never met"
        time.sleep(0.01)
