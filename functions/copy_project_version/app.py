"""CopyProjectVersion: copies a model and its evaluation to another project, where the source's policies allow it."""

from recognito.custom_labels.versions import copy_project_version
from recognito.protocol import rekognition_operation


@rekognition_operation("CopyProjectVersion")
def handler(request: dict, context: object) -> dict:
    return copy_project_version(request)
