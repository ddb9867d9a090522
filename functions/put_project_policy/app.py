"""PutProjectPolicy: attaches a project policy, or replaces one given its current revision id."""

from recognito.custom_labels.policies import put_project_policy
from recognito.protocol import rekognition_operation


@rekognition_operation("PutProjectPolicy")
def handler(request: dict, context: object) -> dict:
    return put_project_policy(request)
