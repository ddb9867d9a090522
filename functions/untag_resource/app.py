"""UntagResource: removes tags from a collection."""

from recognito.protocol import rekognition_operation
from recognito.tagging import untag_resource


@rekognition_operation("UntagResource")
def handler(request: dict, context: object) -> dict:
    return untag_resource(request)
