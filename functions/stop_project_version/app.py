"""StopProjectVersion: stops serving a model: STOPPING, then STOPPED."""

from recognito.custom_labels.versions import stop_project_version
from recognito.protocol import rekognition_operation


@rekognition_operation("StopProjectVersion")
def handler(request: dict, context: object) -> dict:
    return stop_project_version(request)
