"""The face model a collection's embeddings come from.

A collection is pinned to the version it was created with: embeddings of one model are
meaningless to another, so the version travels with the collection (``FaceModelVersion``).
"""

FACE_MODEL_VERSION = "facenet-20180408"
