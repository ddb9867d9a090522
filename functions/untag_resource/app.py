"""UntagResource: removes tags from a collection."""

from recognito.collections.tagging import untag_resource
from recognito.protocol import rekognition_operation


@rekognition_operation("UntagResource")
def handler(request: dict, context: object) -> dict:
    return untag_resource(request)
