"""GetTextDetection: a text detection job's status and a page of its lines and words, by timestamp."""

from recognito.protocol import rekognition_operation
from recognito.video.operations import get_text_detection


@rekognition_operation("GetTextDetection")
def handler(request: dict, context: object) -> dict:
    return get_text_detection(request)
