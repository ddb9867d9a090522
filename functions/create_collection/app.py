"""CreateCollection: a new, empty face collection."""

from recognito.collections.service import create_collection
from recognito.protocol import rekognition_operation


@rekognition_operation("CreateCollection")
def handler(request: dict, context: object) -> dict:
    return create_collection(request)
