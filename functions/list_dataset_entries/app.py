"""ListDatasetEntries: a page of a dataset's JSON lines, filtered by label, labeling, source-ref or errors."""

from recognito.custom_labels.datasets import list_dataset_entries
from recognito.protocol import rekognition_operation


@rekognition_operation("ListDatasetEntries")
def handler(request: dict, context: object) -> dict:
    return list_dataset_entries(request)
