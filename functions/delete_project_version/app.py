"""DeleteProjectVersion: deletes a model that is neither running nor training."""

from recognito.custom_labels.versions import delete_project_version
from recognito.protocol import rekognition_operation


@rekognition_operation("DeleteProjectVersion")
def handler(request: dict, context: object) -> dict:
    return delete_project_version(request)
