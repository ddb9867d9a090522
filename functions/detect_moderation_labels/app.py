"""DetectModerationLabels: unsafe content in an image, as labels of Rekognition's taxonomy."""

from recognito.custom_labels.moderation import detect_moderation_labels
from recognito.protocol import rekognition_operation


@rekognition_operation("DetectModerationLabels")
def handler(request: dict, context: object) -> dict:
    return detect_moderation_labels(request)
