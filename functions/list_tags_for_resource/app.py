"""ListTagsForResource: the tags of a collection."""

from recognito.collections.tagging import list_tags_for_resource
from recognito.protocol import rekognition_operation


@rekognition_operation("ListTagsForResource")
def handler(request: dict, context: object) -> dict:
    return list_tags_for_resource(request)
