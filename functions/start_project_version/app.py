"""StartProjectVersion: starts serving a trained model: STARTING, then RUNNING once its artifact is found."""

from recognito.custom_labels.versions import start_project_version
from recognito.protocol import rekognition_operation


@rekognition_operation("StartProjectVersion")
def handler(request: dict, context: object) -> dict:
    return start_project_version(request)
