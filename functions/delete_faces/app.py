"""DeleteFaces: removes faces from a collection."""

from recognito.collections.faces import delete_faces
from recognito.protocol import rekognition_operation


@rekognition_operation("DeleteFaces")
def handler(request: dict, context: object) -> dict:
    return delete_faces(request)
