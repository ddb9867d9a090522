"""TagResource: adds tags to a collection."""

from recognito.collections.tagging import tag_resource
from recognito.protocol import rekognition_operation


@rekognition_operation("TagResource")
def handler(request: dict, context: object) -> dict:
    return tag_resource(request)
