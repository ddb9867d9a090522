"""DetectCustomLabels: a running model version's labels (and boxes, for a detector) in an image."""

from recognito.custom_labels.training.serving import detect_custom_labels
from recognito.protocol import rekognition_operation


@rekognition_operation("DetectCustomLabels")
def handler(request: dict, context: object) -> dict:
    return detect_custom_labels(request)
