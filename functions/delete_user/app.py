"""DeleteUser: removes a user; its faces stay."""

from recognito.collections.users import delete_user
from recognito.protocol import rekognition_operation


@rekognition_operation("DeleteUser")
def handler(request: dict, context: object) -> dict:
    return delete_user(request)
