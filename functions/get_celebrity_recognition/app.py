"""GetCelebrityRecognition: a celebrity recognition job's status and a page of the celebrities seen."""

from recognito.protocol import rekognition_operation
from recognito.video.operations import get_celebrity_recognition


@rekognition_operation("GetCelebrityRecognition")
def handler(request: dict, context: object) -> dict:
    return get_celebrity_recognition(request)
