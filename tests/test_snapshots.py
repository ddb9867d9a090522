"""Scheduled snapshots: a cold search function starts from S3 and only catches up on the rest."""

from __future__ import annotations

import json

import boto3
import pytest
from conftest import EVENTS, call, invoke_event
from recognito.collections import search
from recognito.collections.snapshots import refresh_snapshots
from recognito.settings import settings
from test_faces_users import identity, index

pytestmark = pytest.mark.usefixtures("aws")


@pytest.fixture
def bucket(monkeypatch):
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="indexes")
    monkeypatch.setenv("RECOGNITO_INDEX_BUCKET", "indexes")
    settings.cache_clear()
    search.snapshot_store.cache_clear()
    yield "indexes"
    search.snapshot_store.cache_clear()


def test_cold_search_loads_the_snapshot_then_the_changes_since(bucket, monkeypatch):
    call("CreateCollection", {"CollectionId": "big"})
    alice = index("big", identity(1, 4))
    (done,) = refresh_snapshots(min_faces=1, min_changes=1)
    assert done["faces"] == 4 and done["written"]
    later = index("big", identity(1, 1))[0]
    assert refresh_snapshots(min_faces=1, min_changes=5) == []  # only 1 change behind

    # A cold function: empty cache; the feed must be asked only for what the snapshot lacks.
    search._indexes.clear()
    asked = []
    original = search._feed.changes_since
    monkeypatch.setattr(search._feed, "changes_since", lambda cid, seq: asked.append(seq) or original(cid, seq))
    found = call("SearchFaces", {"CollectionId": "big", "FaceId": alice[0]})[1]
    assert {match["Face"]["FaceId"] for match in found["FaceMatches"]} == {*alice[1:], later}
    assert asked and asked[0] == done["seq"]


def test_scheduled_function_with_its_sample_event(bucket):
    call("CreateCollection", {"CollectionId": "small"})
    index("small", identity(2, 2))
    event = json.loads((EVENTS / "refresh_index_snapshots.json").read_text())
    assert invoke_event("refresh_index_snapshots", event) == {"refreshed": 0}  # small collections need none
