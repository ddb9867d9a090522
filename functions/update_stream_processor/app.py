"""UpdateStreamProcessor: changes a stopped connected home processor's labels, confidence, regions or data sharing."""

from recognito.protocol import rekognition_operation
from recognito.streams.processors import update_stream_processor


@rekognition_operation("UpdateStreamProcessor")
def handler(request: dict, context: object) -> dict:
    return update_stream_processor(request)
