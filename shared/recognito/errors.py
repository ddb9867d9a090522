"""Rekognition's error codes as exceptions.

A service raises one of these; the protocol layer turns it into the JSON 1.1 error body that the
AWS SDKs parse (``__type`` and ``message``) with the HTTP status AWS uses.
"""

from __future__ import annotations


class RekognitionError(Exception):
    """An error that reaches the caller as ``{"__type": code, "message": message}``."""

    code: str = "InternalServerError"
    status: int = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            cls.code = cls.__name__


class InternalServerError(RekognitionError):
    status = 500


class ThrottlingException(RekognitionError):
    pass


class ProvisionedThroughputExceededException(RekognitionError):
    pass


class AccessDeniedException(RekognitionError):
    pass


class ValidationException(RekognitionError):
    pass


class InvalidParameterException(RekognitionError):
    pass


class InvalidImageFormatException(RekognitionError):
    pass


class ImageTooLargeException(RekognitionError):
    pass


class InvalidS3ObjectException(RekognitionError):
    pass


class InvalidPaginationTokenException(RekognitionError):
    pass


class ResourceNotFoundException(RekognitionError):
    pass


class ResourceAlreadyExistsException(RekognitionError):
    pass


class ResourceInUseException(RekognitionError):
    pass


class ServiceQuotaExceededException(RekognitionError):
    pass


class LimitExceededException(RekognitionError):
    pass


class VideoTooLargeException(RekognitionError):
    pass


class IdempotentParameterMismatchException(RekognitionError):
    pass


class SessionNotFoundException(RekognitionError):
    pass


class ConflictException(RekognitionError):
    pass


class ResourceNotReadyException(RekognitionError):
    pass


class MalformedPolicyDocumentException(RekognitionError):
    pass


class InvalidPolicyRevisionIdException(RekognitionError):
    pass


class UnknownOperationException(RekognitionError):
    pass


class SerializationException(RekognitionError):
    pass


# Authentication (SigV4), as AWS's JSON services send them: all HTTP 400.
class MissingAuthenticationTokenException(RekognitionError):
    pass


class IncompleteSignatureException(RekognitionError):
    pass


class InvalidSignatureException(RekognitionError):
    pass


class UnrecognizedClientException(RekognitionError):
    pass


class NotImplementedYetException(InvalidParameterException):
    """An operation of the API that recognito does not serve yet.

    AWS has no such error; it is reported as ``InvalidParameterException`` (which every SDK
    models) so that callers' generic error handling works, with a message that says what it is.
    """

    code = "InvalidParameterException"
