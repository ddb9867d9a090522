"""ListProjectPolicies: a project's policies with their documents and revision ids."""

from recognito.custom_labels.policies import list_project_policies
from recognito.protocol import rekognition_operation


@rekognition_operation("ListProjectPolicies")
def handler(request: dict, context: object) -> dict:
    return list_project_policies(request)
