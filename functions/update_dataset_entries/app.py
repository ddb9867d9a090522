"""UpdateDatasetEntries: adds JSON lines to a dataset, replacing those of the same source-ref."""

from recognito.custom_labels.datasets import update_dataset_entries
from recognito.protocol import rekognition_operation


@rekognition_operation("UpdateDatasetEntries")
def handler(request: dict, context: object) -> dict:
    return update_dataset_entries(request)
