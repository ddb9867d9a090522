"""StartTextDetection: starts detecting text in a stored video, announced on SNS when done."""

from recognito.protocol import rekognition_operation
from recognito.video.operations import start_text_detection


@rekognition_operation("StartTextDetection")
def handler(request: dict, context: object) -> dict:
    return start_text_detection(request)
