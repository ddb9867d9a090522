"""StartFaceDetection: starts detecting faces in a stored video: a job whose end is announced on SNS."""

from recognito.protocol import rekognition_operation
from recognito.video.operations import start_face_detection


@rekognition_operation("StartFaceDetection")
def handler(request: dict, context: object) -> dict:
    return start_face_detection(request)
