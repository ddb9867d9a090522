"""GetPersonTracking: a person tracking job's status and a page of its people, by timestamp or index."""

from recognito.protocol import rekognition_operation
from recognito.video.operations import get_person_tracking


@rekognition_operation("GetPersonTracking")
def handler(request: dict, context: object) -> dict:
    return get_person_tracking(request)
