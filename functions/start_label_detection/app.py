"""StartLabelDetection: starts detecting labels in a stored video: a job whose end is announced on SNS."""

from recognito.protocol import rekognition_operation
from recognito.video.operations import start_label_detection


@rekognition_operation("StartLabelDetection")
def handler(request: dict, context: object) -> dict:
    return start_label_detection(request)
