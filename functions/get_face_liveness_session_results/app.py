"""GetFaceLivenessSessionResults: a Face Liveness session's status and, once decided, its confidence and images."""

from recognito.liveness.sessions import get_face_liveness_session_results
from recognito.protocol import rekognition_operation


@rekognition_operation("GetFaceLivenessSessionResults")
def handler(request: dict, context: object) -> dict:
    return get_face_liveness_session_results(request)
