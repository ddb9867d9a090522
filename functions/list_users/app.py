"""ListUsers: a page of a collection's users."""

from recognito.collections.users import list_users
from recognito.protocol import rekognition_operation


@rekognition_operation("ListUsers")
def handler(request: dict, context: object) -> dict:
    return list_users(request)
