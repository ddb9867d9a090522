"""CreateProject: a new custom labels project (or moderation adapter project)."""

from recognito.custom_labels.projects import create_project
from recognito.protocol import rekognition_operation


@rekognition_operation("CreateProject")
def handler(request: dict, context: object) -> dict:
    return create_project(request)
