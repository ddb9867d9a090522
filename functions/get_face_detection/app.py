"""GetFaceDetection: a face detection job's status and a page of its faces, by timestamp."""

from recognito.protocol import rekognition_operation
from recognito.video.operations import get_face_detection


@rekognition_operation("GetFaceDetection")
def handler(request: dict, context: object) -> dict:
    return get_face_detection(request)
