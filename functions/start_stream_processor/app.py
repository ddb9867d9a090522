"""StartStreamProcessor: starts a stream processor's session: it reads the video stream and reports what it finds."""

from recognito.protocol import rekognition_operation
from recognito.streams.processors import start_stream_processor


@rekognition_operation("StartStreamProcessor")
def handler(request: dict, context: object) -> dict:
    return start_stream_processor(request)
