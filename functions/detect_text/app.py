"""DetectText: the lines and words of text in an image, with boxes and polygons."""

from recognito.analysis.text import detect_text
from recognito.protocol import rekognition_operation


@rekognition_operation("DetectText")
def handler(request: dict, context: object) -> dict:
    return detect_text(request)
