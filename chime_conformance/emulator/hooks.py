"""The public extension points of one emulator (``EmulatorApp.hooks``).

An extension (today: the deliberate faults of ``chime_conformance.emulator.faults``)
is a function given to ``EmulatorApp(..., extensions=...)``; the app calls it at
the end of its construction, and it changes the app only through these hooks,
and through the backend's own ones (``EmulatorBackend.wrap_rule`` for one rule
of the models, ``EmulatorBackend.wrap_page_tokens`` for the NextToken issuer):

========================  =====================================================
``wrap_handler``          one operation's handler (``responses.py``)
``filter_violations``     the constraints a request was found to break
``wrap_dispatch``         the call of any handler (under the backend lock)
``wrap_verify``           SigV4 verification of a request
``wrap_authorize``        IAM's decision: the identity a request acts as, or a 403
``filter_answers``        every answer of the API (not the ``/_emulator/`` ones)
``stamp_answers``         a header added to every answer, the admin ones too
``wrap_request_id``       the x-amzn-RequestId of each answer (None: no header)
``report_health``         a field added to ``GET /_emulator/health``
========================  =====================================================

Wrappers compose: the one installed last is the outermost. The app owns the
calls (``violations``, ``dispatch``, ``verify``, ``answer``); nothing here
knows an operation's rules or any extension.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

from chime_conformance.contract import spec

if TYPE_CHECKING:
    from chime_conformance.emulator.auth import ReceivedRequest
    from chime_conformance.emulator.iam import Identity
    from chime_conformance.emulator.messages import Answer, ReceivedCall

__all__ = [
    "AppHooks",
    "Authorize",
    "Dispatch",
    "Extension",
    "Handler",
    "RequestId",
    "Verify",
    "Violations",
]

Handler = Callable[[Any, dict[str, Any]], Any]  # (the scoped backend, members) -> body
# (operation, members, the identity it acts as) -> body
Dispatch = Callable[[spec.Operation, dict[str, Any], "Identity"], Any]
Verify = Callable[["ReceivedRequest"], str]  # the caller's access key, or a ChimeError
# (the caller, operation, members) -> the identity it acts as, or a ForbiddenException
Authorize = Callable[["Identity", spec.Operation, dict[str, Any]], "Identity"]
Violations = list[spec.Violation]
ViolationFilter = Callable[[spec.Operation, dict[str, Any], Violations], Violations]
AnswerFilter = Callable[["ReceivedCall", "Answer"], "Answer"]
RequestId = Callable[["ReceivedCall", "Answer"], "str | None"]  # None: the answer carries none
# called once, at the end of EmulatorApp.__init__, with the app (typed Any here:
# app.py imports this module, so naming its class would be an import cycle)
Extension = Callable[[Any], None]


class AppHooks:
    """The seams of one :class:`~chime_conformance.emulator.app.EmulatorApp`."""

    def __init__(
        self,
        handlers: Mapping[str, MutableMapping[str, Handler]],
        *,
        dispatch: Dispatch,
        verify: Verify,
        authorize: Authorize,
        request_id: Callable[[], str] = lambda: "",
    ) -> None:
        # {api: {operation: handler}}: the app's own tables, wrapped in place
        self._handlers = handlers
        self._dispatch = dispatch
        self._verify = verify
        self._authorize = authorize
        self._request_id: RequestId = lambda exchange, answer: request_id()
        self._violation_filters: list[ViolationFilter] = []
        self._answer_filters: list[AnswerFilter] = []
        self.headers: list[tuple[str, str]] = []
        self.health: dict[str, Any] = {}

    # -- for extensions ----------------------------------------------------------

    def wrap_handler(self, operation: str, wrapper: Callable[[Handler], Handler]) -> None:
        """Replace ``operation``'s handler with ``wrapper(current handler)``."""
        table = self._handlers[spec.operation(operation).api]
        table[operation] = wrapper(table[operation])

    def filter_violations(self, transform: ViolationFilter) -> None:
        """``transform(operation, members, violations)`` decides which
        violations a request has (an empty list lets it through)."""
        self._violation_filters.append(transform)

    def wrap_dispatch(self, wrapper: Callable[[Dispatch], Dispatch]) -> None:
        """Replace the call of a handler (``dispatch(operation, members, caller)``)."""
        self._dispatch = wrapper(self._dispatch)

    def wrap_verify(self, wrapper: Callable[[Verify], Verify]) -> None:
        """Replace the SigV4 verification of a request."""
        self._verify = wrapper(self._verify)

    def wrap_authorize(self, wrapper: Callable[[Authorize], Authorize]) -> None:
        """Replace IAM's decision (``authorize(caller, operation, members)``: the
        identity whose account the request acts in, or a ForbiddenException)."""
        self._authorize = wrapper(self._authorize)

    def wrap_request_id(self, wrapper: Callable[[RequestId], RequestId]) -> None:
        """Replace what decides each answer's x-amzn-RequestId (None: no header)."""
        self._request_id = wrapper(self._request_id)

    def filter_answers(self, transform: AnswerFilter) -> None:
        """``transform(exchange, answer)`` rewrites each answer of the API (errors
        included) just before it is sent; the emulator's own endpoints are left alone."""
        self._answer_filters.append(transform)

    def stamp_answers(self, header: str, value: str) -> None:
        """Add ``header: value`` to every answer, the emulator's own endpoints' too."""
        self.headers.append((header, value))

    def report_health(self, key: str, value: Any) -> None:
        """Add ``key: value`` to the body of ``GET /_emulator/health``."""
        self.health[key] = value

    # -- for the app ---------------------------------------------------------------

    def violations(
        self, operation: spec.Operation, members: dict[str, Any], found: Violations
    ) -> Violations:
        for transform in self._violation_filters:
            found = transform(operation, members, found)
        return found

    def dispatch(self, operation: spec.Operation, members: dict[str, Any], caller: Identity) -> Any:
        return self._dispatch(operation, members, caller)

    def verify(self, request: ReceivedRequest) -> str:
        return self._verify(request)

    def authorize(
        self, caller: Identity, operation: spec.Operation, members: dict[str, Any]
    ) -> Identity:
        return self._authorize(caller, operation, members)

    def request_id(self, exchange: ReceivedCall, answer: Answer) -> str | None:
        return self._request_id(exchange, answer)

    def answer(self, exchange: ReceivedCall, answer: Answer) -> Answer:
        for transform in self._answer_filters:
            answer = transform(exchange, answer)
        return answer
