"""SearchFaces: the faces of a collection that look like one of its faces."""

from recognito.collections.search import search_faces
from recognito.protocol import rekognition_operation


@rekognition_operation("SearchFaces")
def handler(request: dict, context: object) -> dict:
    return search_faces(request)
