"""StartFaceSearch: starts searching a stored video for a collection's faces, announced on SNS when done."""

from recognito.protocol import rekognition_operation
from recognito.video.operations import start_face_search


@rekognition_operation("StartFaceSearch")
def handler(request: dict, context: object) -> dict:
    return start_face_search(request)
