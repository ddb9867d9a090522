"""CreateStreamProcessor: a new stream processor: a video stream to watch, what to look for, where to report it."""

from recognito.protocol import rekognition_operation
from recognito.streams.processors import create_stream_processor


@rekognition_operation("CreateStreamProcessor")
def handler(request: dict, context: object) -> dict:
    return create_stream_processor(request)
