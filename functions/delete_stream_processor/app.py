"""DeleteStreamProcessor: deletes a stream processor that is not running."""

from recognito.protocol import rekognition_operation
from recognito.streams.processors import delete_stream_processor


@rekognition_operation("DeleteStreamProcessor")
def handler(request: dict, context: object) -> dict:
    return delete_stream_processor(request)
