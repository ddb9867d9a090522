"""DetectProtectiveEquipment: people, their body parts and the face, head and hand covers they wear."""

from recognito.analysis.ppe import detect_protective_equipment
from recognito.protocol import rekognition_operation


@rekognition_operation("DetectProtectiveEquipment")
def handler(request: dict, context: object) -> dict:
    return detect_protective_equipment(request)
