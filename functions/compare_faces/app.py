"""CompareFaces: the largest face of one image against every face of another."""

from recognito.faces.compare import compare_faces
from recognito.protocol import rekognition_operation


@rekognition_operation("CompareFaces")
def handler(request: dict, context: object) -> dict:
    return compare_faces(request)
