"""StopStreamProcessor: stops a running stream processor; its session ends after the fragment in hand."""

from recognito.protocol import rekognition_operation
from recognito.streams.processors import stop_stream_processor


@rekognition_operation("StopStreamProcessor")
def handler(request: dict, context: object) -> dict:
    return stop_stream_processor(request)
