"""DescribeCollection: a collection's face and user counts, model version and ARN."""

from recognito.collections.service import describe_collection
from recognito.protocol import rekognition_operation


@rekognition_operation("DescribeCollection")
def handler(request: dict, context: object) -> dict:
    return describe_collection(request)
