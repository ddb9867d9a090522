"""ListFaces: a page of a collection's faces."""

from recognito.collections.faces import list_faces
from recognito.protocol import rekognition_operation


@rekognition_operation("ListFaces")
def handler(request: dict, context: object) -> dict:
    return list_faces(request)
