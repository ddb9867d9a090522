"""DescribeProjects: the account's projects of the features asked, with their datasets, a page at a time."""

from recognito.custom_labels.projects import describe_projects
from recognito.protocol import rekognition_operation


@rekognition_operation("DescribeProjects")
def handler(request: dict, context: object) -> dict:
    return describe_projects(request)
