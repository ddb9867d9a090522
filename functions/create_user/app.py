"""CreateUser: a new user in a collection, to group one person's faces."""

from recognito.collections.users import create_user
from recognito.protocol import rekognition_operation


@rekognition_operation("CreateUser")
def handler(request: dict, context: object) -> dict:
    return create_user(request)
