"""Error shape: an error answered, but not in AWS's shape."""

from __future__ import annotations

import http
from collections.abc import Callable
from dataclasses import replace

from chime_conformance.emulator.app import EmulatorApp
from chime_conformance.emulator.faults.registry import fault
from chime_conformance.emulator.faults.seams import answer_body, json_answer
from chime_conformance.emulator.messages import Answer


def error_answers(app: EmulatorApp, transform: Callable[[Answer], Answer]) -> None:
    """Rewrite every error answer (status 400 and above) of the API."""
    app.hooks.filter_answers(lambda exchange, a: transform(a) if a.status >= 400 else a)


@fault(
    "error_type_header_missing",
    category="error shape",
    breaks="An error answer names its exception in x-amzn-ErrorType (docs/contract.md error-shape: "
    "botocore maps errors by it); here the header is missing.",
)
def _error_type_header_missing(app: EmulatorApp) -> None:
    error_answers(
        app,
        lambda a: replace(
            a, headers=tuple((k, v) for k, v in a.headers if k.lower() != "x-amzn-errortype")
        ),
    )


@fault(
    "error_code_is_http_phrase",
    category="error shape",
    breaks="An error body's Code is a value of botocore's ErrorCode enum (docs/contract.md "
    'error-code-enum); here it is the HTTP reason phrase ("Not Found").',
)
def _error_code_is_http_phrase(app: EmulatorApp) -> None:
    def transform(a: Answer) -> Answer:
        body = answer_body(a) or {}
        return json_answer(a, {**body, "Code": http.HTTPStatus(a.status).phrase})

    error_answers(app, transform)


@fault(
    "error_message_missing",
    category="error shape",
    breaks='An error body is {"Code": …, "Message": …} (docs/contract.md error-shape); here it has '
    "no Message.",
)
def _error_message_missing(app: EmulatorApp) -> None:
    def transform(a: Answer) -> Answer:
        body = answer_body(a) or {}
        return json_answer(a, {k: v for k, v in body.items() if k.lower() != "message"})

    error_answers(app, transform)


@fault(
    "errors_all_named_bad_request",
    category="error shape",
    breaks="x-amzn-ErrorType names the exception of the status (404 NotFoundException, 409 "
    "ConflictException …; docs/contract.md error-shape); here every error says BadRequestException.",
)
def _errors_all_named_bad_request(app: EmulatorApp) -> None:
    def transform(a: Answer) -> Answer:
        body = answer_body(a) or {}
        named = json_answer(a, {**body, "Code": "BadRequest"})
        return replace(
            named,
            headers=tuple(
                (k, "BadRequestException" if k.lower() == "x-amzn-errortype" else v)
                for k, v in named.headers
            ),
        )

    error_answers(app, transform)


@fault(
    "error_body_not_json",
    category="error shape",
    breaks="An error answer is JSON and says so in Content-Type (docs/contract.md error-shape); here "
    "it is an HTML page.",
)
def _error_body_not_json(app: EmulatorApp) -> None:
    def transform(a: Answer) -> Answer:
        phrase = http.HTTPStatus(a.status).phrase
        headers = tuple((k, v) for k, v in a.headers if k.lower() != "content-type")
        page = f"<html><body><h1>{a.status} {phrase}</h1></body></html>".encode()
        return replace(a, body=page, headers=(*headers, ("Content-Type", "text/html")))

    error_answers(app, transform)
