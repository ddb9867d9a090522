"""DistributeDatasetEntries: moves 20% of a training dataset's images, of every label, to the project's empty test
dataset.
"""

from recognito.custom_labels.datasets import distribute_dataset_entries
from recognito.protocol import rekognition_operation


@rekognition_operation("DistributeDatasetEntries")
def handler(request: dict, context: object) -> dict:
    return distribute_dataset_entries(request)
