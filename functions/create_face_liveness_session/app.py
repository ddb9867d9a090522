"""CreateFaceLivenessSession: creates a Face Liveness session a client streams its selfie video to within 3 minutes."""

from recognito.liveness.sessions import create_face_liveness_session
from recognito.protocol import rekognition_operation


@rekognition_operation("CreateFaceLivenessSession")
def handler(request: dict, context: object) -> dict:
    return create_face_liveness_session(request)
