"""AssociateFaces: adds faces to a user."""

from recognito.collections.users import associate_faces
from recognito.protocol import rekognition_operation


@rekognition_operation("AssociateFaces")
def handler(request: dict, context: object) -> dict:
    return associate_faces(request)
