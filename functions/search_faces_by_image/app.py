"""SearchFacesByImage: the faces of a collection that look like the largest face of an image."""

from recognito.collections.image_search import search_faces_by_image
from recognito.protocol import rekognition_operation


@rekognition_operation("SearchFacesByImage")
def handler(request: dict, context: object) -> dict:
    return search_faces_by_image(request)
