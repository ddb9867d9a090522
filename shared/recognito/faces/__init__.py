"""Face services: DetectFaces now; CompareFaces, IndexFaces and the searches build on the same
FaceDetail (``recognito.faces.details``)."""
