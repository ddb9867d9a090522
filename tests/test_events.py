"""Every sample event in events/ runs through its function's handler, as `sam local invoke` would."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import boto3
import custom_labels_samples
import numpy as np
import pytest
import stream_processor_samples
from botocore import xform_name
from conftest import EVENTS, call, invoke_event, load_function
from models_available import needs_models
from recognito.collections.faces import NewFace, add_faces
from recognito.faces.similarity import FACE_MODEL_VERSION, face_model
from recognito.registry import registry
from recognito.storage import CelebrityRecord

_BOX = {"Width": 0.5, "Height": 0.5, "Left": 0.25, "Top": 0.25}


def _unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(face_model(FACE_MODEL_VERSION).dim)
    return vector / np.linalg.norm(vector)


# API Gateway requests; the SQS (s3_upload) and scheduled (refresh_index_snapshots) events are
# invoked in tests/test_uploads.py and tests/test_snapshots.py.
API_FUNCTIONS = {fn.code: fn for fn in registry().functions.values() if fn.kind in ("operation", "router")}
API_EVENT_FILES = [
    pytest.param(EVENTS / f"{code}.json", marks=[pytest.mark.models] if API_FUNCTIONS[code].models else [])
    for code in sorted(API_FUNCTIONS)
]


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("path", API_EVENT_FILES, ids=lambda path: path.stem)
def test_sample_event(path, monkeypatch):
    name = path.stem
    if API_FUNCTIONS[name].models:
        needs_models(*API_FUNCTIONS[name].models)
    event = json.loads(path.read_text())
    if name not in ("create_collection", "list_collections", "front_door"):
        call("CreateCollection", {"CollectionId": "my-collection"})
    if name in ("delete_user", "associate_faces", "disassociate_faces"):
        call("CreateUser", {"CollectionId": "my-collection", "UserId": "my-user"})
    if name in ("search_faces", "search_users"):
        # The sample names a face of the sample collection; here that face is made first.
        face_id = add_faces(
            "my-collection",
            [NewFace(_unit(0), _BOX, 99.0)],
            version=FACE_MODEL_VERSION,
            image_id="i",
            external_image_id=None,
        )[0]
        body = json.loads(event["body"])
        event["body"] = json.dumps({**body, "FaceId": face_id["FaceId"]})
    if name in custom_labels_samples.OPERATIONS:
        custom_labels_samples.prepare(name, monkeypatch)
    if name in stream_processor_samples.OPERATIONS:
        stream_processor_samples.prepare(name)
    if name in ("create_face_liveness_session", "get_face_liveness_session_results"):
        boto3.client("s3").create_bucket(Bucket="my-liveness")
    if name == "get_face_liveness_session_results":
        # The sample names a session; here one is created under that id.
        from recognito.liveness import sessions

        with monkeypatch.context() as patch:
            patch.setattr(sessions.uuid, "uuid4", lambda: uuid.UUID(json.loads(event["body"])["SessionId"]))
            sessions.create_face_liveness_session({})
    if name == "get_celebrity_info":
        # The sample names a celebrity of the gallery; here one is added under that Id.
        CelebrityRecord("3Ir0du6", name="Eileen Collins", created=datetime.now(UTC)).save()
    if name == "front_door":
        # Deployed, the front door Invokes the operation's Lambda; here it runs the handler in-process.
        monkeypatch.setattr(load_function("front_door"), "invoke", lambda op, ev: invoke_event(xform_name(op), ev))
    reply = invoke_event(name, event)
    assert reply["statusCode"] == 200, reply["body"]
    assert reply["headers"]["x-amzn-RequestId"] == event["requestContext"]["requestId"]
    body = json.loads(reply["body"])
    if name == "detect_faces":
        assert len(body["FaceDetails"]) == 1
    if name == "compare_faces":
        assert body["FaceMatches"][0]["Similarity"] > 99
    if name == "detect_text":
        assert body["TextDetections"][0]["DetectedText"] == "Region-based segmentation"
    if name == "detect_protective_equipment":
        assert body["Summary"]["PersonsWithoutRequiredEquipment"] == [0]
    if name == "detect_moderation_labels":
        assert body["ModerationLabels"] == [] and body["ModerationModelVersion"] == "7.0"
