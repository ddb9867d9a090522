"""DescribeStreamProcessor: a stream processor's configuration and status."""

from recognito.protocol import rekognition_operation
from recognito.streams.processors import describe_stream_processor


@rekognition_operation("DescribeStreamProcessor")
def handler(request: dict, context: object) -> dict:
    return describe_stream_processor(request)
