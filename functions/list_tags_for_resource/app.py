"""ListTagsForResource: the tags of a collection."""

from recognito.protocol import rekognition_operation
from recognito.tagging import list_tags_for_resource


@rekognition_operation("ListTagsForResource")
def handler(request: dict, context: object) -> dict:
    return list_tags_for_resource(request)
