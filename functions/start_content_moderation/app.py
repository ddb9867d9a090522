"""StartContentModeration: starts detecting unsafe content in a stored video, announced on SNS when done."""

from recognito.protocol import rekognition_operation
from recognito.video.operations import start_content_moderation


@rekognition_operation("StartContentModeration")
def handler(request: dict, context: object) -> dict:
    return start_content_moderation(request)
