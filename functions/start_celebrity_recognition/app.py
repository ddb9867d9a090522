"""StartCelebrityRecognition: starts recognizing the gallery's celebrities in a stored video, announced on SNS."""

from recognito.protocol import rekognition_operation
from recognito.video.operations import start_celebrity_recognition


@rekognition_operation("StartCelebrityRecognition")
def handler(request: dict, context: object) -> dict:
    return start_celebrity_recognition(request)
