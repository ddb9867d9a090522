"""CreateProjectVersion: starts training a model (or adapter) from the project's datasets or manifests."""

from recognito.custom_labels.versions import create_project_version
from recognito.protocol import rekognition_operation


@rekognition_operation("CreateProjectVersion")
def handler(request: dict, context: object) -> dict:
    return create_project_version(request)
