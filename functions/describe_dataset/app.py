"""DescribeDataset: a dataset's status and entry, label and error counts."""

from recognito.custom_labels.datasets import describe_dataset
from recognito.protocol import rekognition_operation


@rekognition_operation("DescribeDataset")
def handler(request: dict, context: object) -> dict:
    return describe_dataset(request)
