"""The Rekognition wire protocol (AWS JSON 1.1), driven by botocore's service model."""

from recognito.protocol.api import (
    error_response,
    header,
    parse_request,
    proxy_event,
    rekognition_operation,
    request_id,
    response,
    target_operation,
)
from recognito.protocol.model import operation_model, operation_names, service_model

__all__ = [
    "error_response",
    "header",
    "operation_model",
    "operation_names",
    "parse_request",
    "proxy_event",
    "rekognition_operation",
    "request_id",
    "response",
    "service_model",
    "target_operation",
]
