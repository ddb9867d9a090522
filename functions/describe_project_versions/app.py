"""DescribeProjectVersions: a project's versions, newest first: status, evaluation, training and testing results."""

from recognito.custom_labels.versions import describe_project_versions
from recognito.protocol import rekognition_operation


@rekognition_operation("DescribeProjectVersions")
def handler(request: dict, context: object) -> dict:
    return describe_project_versions(request)
