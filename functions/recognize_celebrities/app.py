"""RecognizeCelebrities: the faces of an image that belong to celebrities of the operator's gallery."""

from recognito.celebrities import recognize_celebrities
from recognito.protocol import rekognition_operation


@rekognition_operation("RecognizeCelebrities")
def handler(request: dict, context: object) -> dict:
    return recognize_celebrities(request)
