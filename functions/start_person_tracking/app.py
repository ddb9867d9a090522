"""StartPersonTracking: starts tracking the people in a stored video, announced on SNS when done."""

from recognito.protocol import rekognition_operation
from recognito.video.operations import start_person_tracking


@rekognition_operation("StartPersonTracking")
def handler(request: dict, context: object) -> dict:
    return start_person_tracking(request)
