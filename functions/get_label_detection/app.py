"""GetLabelDetection: a label detection job's status and a page of its labels, per sample or per segment."""

from recognito.protocol import rekognition_operation
from recognito.video.operations import get_label_detection


@rekognition_operation("GetLabelDetection")
def handler(request: dict, context: object) -> dict:
    return get_label_detection(request)
