"""DeleteProjectPolicy: deletes a project policy (of the given revision)."""

from recognito.custom_labels.policies import delete_project_policy
from recognito.protocol import rekognition_operation


@rekognition_operation("DeleteProjectPolicy")
def handler(request: dict, context: object) -> dict:
    return delete_project_policy(request)
