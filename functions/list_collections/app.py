"""ListCollections: the account's collection IDs, a page at a time."""

from recognito.collections.service import list_collections
from recognito.protocol import rekognition_operation


@rekognition_operation("ListCollections")
def handler(request: dict, context: object) -> dict:
    return list_collections(request)
