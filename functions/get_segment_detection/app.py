"""GetSegmentDetection: a segment detection job's status and a page of its shots and technical cues."""

from recognito.protocol import rekognition_operation
from recognito.video.operations import get_segment_detection


@rekognition_operation("GetSegmentDetection")
def handler(request: dict, context: object) -> dict:
    return get_segment_detection(request)
