"""StartSegmentDetection: starts detecting shots and black frames in a stored video, announced on SNS when done."""

from recognito.protocol import rekognition_operation
from recognito.video.operations import start_segment_detection


@rekognition_operation("StartSegmentDetection")
def handler(request: dict, context: object) -> dict:
    return start_segment_detection(request)
