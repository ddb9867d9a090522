"""DetectLabels: objects, scenes and concepts with their taxonomy, boxes, and image properties."""

from recognito.analysis.labels import detect_labels
from recognito.protocol import rekognition_operation


@rekognition_operation("DetectLabels")
def handler(request: dict, context: object) -> dict:
    return detect_labels(request)
