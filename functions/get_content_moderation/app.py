"""GetContentModeration: a content moderation job's status and a page of its moderation labels."""

from recognito.protocol import rekognition_operation
from recognito.video.operations import get_content_moderation


@rekognition_operation("GetContentModeration")
def handler(request: dict, context: object) -> dict:
    return get_content_moderation(request)
