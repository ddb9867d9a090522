"""ListDatasetLabels: a page of a dataset's labels with their image and bounding box counts."""

from recognito.custom_labels.datasets import list_dataset_labels
from recognito.protocol import rekognition_operation


@rekognition_operation("ListDatasetLabels")
def handler(request: dict, context: object) -> dict:
    return list_dataset_labels(request)
