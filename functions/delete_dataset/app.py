"""DeleteDataset: deletes a dataset and its entries."""

from recognito.custom_labels.datasets import delete_dataset
from recognito.protocol import rekognition_operation


@rekognition_operation("DeleteDataset")
def handler(request: dict, context: object) -> dict:
    return delete_dataset(request)
