"""GetCelebrityInfo: a gallery celebrity's name, URLs and gender."""

from recognito.celebrities import get_celebrity_info
from recognito.protocol import rekognition_operation


@rekognition_operation("GetCelebrityInfo")
def handler(request: dict, context: object) -> dict:
    return get_celebrity_info(request)
