"""recognito: the Amazon Rekognition API, self-hosted.

This package is the shared layer: the protocol (driven by botocore's service model), image input,
storage models and the service backends that the per-operation handlers in ``functions/`` call.
"""
