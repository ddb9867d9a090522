"""DetectFaces: the faces in an image, with boxes, landmarks, pose and quality."""

from recognito.faces.detect import detect_faces
from recognito.protocol import rekognition_operation


@rekognition_operation("DetectFaces")
def handler(request: dict, context: object) -> dict:
    return detect_faces(request)
