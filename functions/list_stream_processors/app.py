"""ListStreamProcessors: the account's stream processors and their statuses, a page at a time."""

from recognito.protocol import rekognition_operation
from recognito.streams.processors import list_stream_processors


@rekognition_operation("ListStreamProcessors")
def handler(request: dict, context: object) -> dict:
    return list_stream_processors(request)
