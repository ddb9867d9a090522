"""The face pipeline, stateless: DetectFaces and CompareFaces, the FaceDetail every face operation
returns (``details``) and the similarity scale (``similarity``). Collections and celebrities build on
it; it imports neither them nor storage (tests/test_import_layers.py)."""
