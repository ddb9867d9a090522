"""Every sample event in events/ runs through its function's handler, as `sam local invoke` would."""

from __future__ import annotations

import json

import pytest
from botocore import xform_name
from conftest import EVENTS, FUNCTIONS, call, invoke_event, load_function
from models_available import needs_models

EVENT_FILES = sorted(EVENTS.glob("*.json"))
IMAGE_FUNCTIONS = {"detect_faces", "compare_faces"}


def test_every_function_has_a_sample_event_and_back():
    functions = {path.parent.name for path in FUNCTIONS.glob("*/app.py")}
    assert functions == {path.stem for path in EVENT_FILES}


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("path", EVENT_FILES, ids=lambda path: path.stem)
def test_sample_event(path, monkeypatch):
    name = path.stem
    if name in IMAGE_FUNCTIONS:
        needs_models()
    event = json.loads(path.read_text())
    if name not in ("create_collection", "list_collections", "front_door"):
        call("CreateCollection", {"CollectionId": "my-collection"})
    if name in ("delete_user", "associate_faces", "disassociate_faces"):
        call("CreateUser", {"CollectionId": "my-collection", "UserId": "my-user"})
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
