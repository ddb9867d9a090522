"""CreateDataset: a project's TRAIN or TEST dataset from a Ground Truth manifest in S3, another dataset, or empty."""

from recognito.custom_labels.datasets import create_dataset
from recognito.protocol import rekognition_operation


@rekognition_operation("CreateDataset")
def handler(request: dict, context: object) -> dict:
    return create_dataset(request)
