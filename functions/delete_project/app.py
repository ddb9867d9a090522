"""DeleteProject: deletes a project that has no versions or datasets left, with its policies."""

from recognito.custom_labels.projects import delete_project
from recognito.protocol import rekognition_operation


@rekognition_operation("DeleteProject")
def handler(request: dict, context: object) -> dict:
    return delete_project(request)
