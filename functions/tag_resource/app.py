"""TagResource: adds tags to a collection."""

from recognito.protocol import rekognition_operation
from recognito.tagging import tag_resource


@rekognition_operation("TagResource")
def handler(request: dict, context: object) -> dict:
    return tag_resource(request)
