"""DeleteCollection: a collection and everything in it."""

from recognito.collections.service import delete_collection
from recognito.protocol import rekognition_operation


@rekognition_operation("DeleteCollection")
def handler(request: dict, context: object) -> dict:
    return delete_collection(request)
