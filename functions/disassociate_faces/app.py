"""DisassociateFaces: takes faces from a user."""

from recognito.collections.users import disassociate_faces
from recognito.protocol import rekognition_operation


@rekognition_operation("DisassociateFaces")
def handler(request: dict, context: object) -> dict:
    return disassociate_faces(request)
