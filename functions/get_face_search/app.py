"""GetFaceSearch: a face search job's status and a page of its persons with their matches, by timestamp or index."""

from recognito.protocol import rekognition_operation
from recognito.video.operations import get_face_search


@rekognition_operation("GetFaceSearch")
def handler(request: dict, context: object) -> dict:
    return get_face_search(request)
