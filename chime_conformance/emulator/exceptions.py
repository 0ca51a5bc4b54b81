"""One class per AWS error code the emulator answers with.

Every error travels as ``x-amzn-ErrorType: <Name>Exception`` plus the JSON body
``{"Code": "<ErrorCode>", "Message": "..."}`` (docs/contract.md, rules
error-shape and error-code-enum): botocore maps the header to the client's
exception class. ``Code`` is a value of botocore's ``ErrorCode`` enum, which is
not always the exception's name: 401 ``Unauthorized``, 422 ``Unprocessable``,
429 ``Throttled``. Errors the model does not know (the signing layer's, the
front door's 405 and 413) keep ``<Name>`` as their Code.
"""

from __future__ import annotations


class ChimeError(Exception):
    """An error the emulator answers with, rendered with its status and name."""

    status: int = 500
    error_type: str = "ServiceFailureException"
    error_code: str | None = None  # botocore's ErrorCode value; None: the name without Exception

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def code(self) -> str:
        return self.error_code or self.error_type.removesuffix("Exception")

    def body(self) -> dict[str, str]:
        return {"Code": self.code, "Message": self.message}

    def headers(self) -> tuple[tuple[str, str], ...]:
        """Headers the error adds to the answer, beyond the error type."""
        return ()


class BadRequestException(ChimeError):
    status = 400
    error_type = "BadRequestException"


class ResourceLimitExceededException(ChimeError):
    status = 400
    error_type = "ResourceLimitExceededException"


class UnauthorizedClientException(ChimeError):
    status = 401
    error_type = "UnauthorizedClientException"
    error_code = "Unauthorized"


class ForbiddenException(ChimeError):
    status = 403
    error_type = "ForbiddenException"


class NotFoundException(ChimeError):
    status = 404
    error_type = "NotFoundException"


class MethodNotAllowedException(ChimeError):
    """Not modeled by botocore: a path of the API with a method it does not define."""

    status = 405
    error_type = "MethodNotAllowedException"

    def __init__(self, message: str, allowed: tuple[str, ...]) -> None:
        super().__init__(message)
        self.allowed = allowed

    def headers(self) -> tuple[tuple[str, str], ...]:
        return (("Allow", ", ".join(self.allowed)),)


class ConflictException(ChimeError):
    status = 409
    error_type = "ConflictException"


class RequestEntityTooLargeException(ChimeError):
    """Not modeled by botocore: the front door's answer to a body over the cap."""

    status = 413
    error_type = "RequestEntityTooLargeException"


class RequestTimeoutException(ChimeError):
    """Not modeled by botocore: the front door's answer to a request that took too
    long to arrive (its headers, or all of it)."""

    status = 408
    error_type = "RequestTimeoutException"


class UnprocessableEntityException(ChimeError):
    status = 422
    error_type = "UnprocessableEntityException"
    error_code = "Unprocessable"


class ThrottledClientException(ChimeError):
    status = 429
    error_type = "ThrottledClientException"
    error_code = "Throttled"


class ServiceUnavailableException(ChimeError):
    status = 503
    error_type = "ServiceUnavailableException"


class ServiceFailureException(ChimeError):
    status = 500
    error_type = "ServiceFailureException"


class HttpVersionNotSupportedException(ChimeError):
    """Not modeled by botocore: a request line of an HTTP version other than 1.0 and 1.1."""

    status = 505
    error_type = "HttpVersionNotSupportedException"


# SigV4 failures: the names AWS's front door uses for every SigV4 service.
class MissingAuthenticationTokenException(ChimeError):
    status = 403
    error_type = "MissingAuthenticationTokenException"


class InvalidSignatureException(ChimeError):
    status = 403
    error_type = "InvalidSignatureException"


class UnrecognizedClientException(ChimeError):
    status = 403
    error_type = "UnrecognizedClientException"


class IncompleteSignatureException(ChimeError):
    status = 403
    error_type = "IncompleteSignatureException"
