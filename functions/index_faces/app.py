"""IndexFaces: detects the faces of an image and adds them to a collection."""

from recognito.collections.indexing import index_faces
from recognito.protocol import rekognition_operation


@rekognition_operation("IndexFaces")
def handler(request: dict, context: object) -> dict:
    return index_faces(request)
