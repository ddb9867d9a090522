"""SearchUsers: the users of a collection that look like one of its faces or users."""

from recognito.collections.search import search_users
from recognito.protocol import rekognition_operation


@rekognition_operation("SearchUsers")
def handler(request: dict, context: object) -> dict:
    return search_users(request)
