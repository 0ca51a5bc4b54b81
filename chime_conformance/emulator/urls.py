"""The route table, built from the spec's operations (never written by hand).

ARNs travel in path labels percent-encoded (``:`` as ``%3A``, ``/`` as
``%2F``), so the RAW path is split on ``/`` first and each segment unquoted
after: an ARN's own slashes never split a route. TagResource and UntagResource
share ``POST /tags`` and are told apart by the ``operation`` query literal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from chime_conformance.contract import spec
from chime_conformance.emulator.exceptions import (
    BadRequestException,
    MethodNotAllowedException,
    NotFoundException,
)


@dataclass(frozen=True)
class Route:
    operation: spec.Operation
    segments: tuple[str, ...]  # literal segments; "{label}" marks a path label
    # per segment: the label's name, or None for a literal (read once, not per request)
    labels: tuple[str | None, ...]

    @classmethod
    def of(cls, operation: spec.Operation) -> Route:
        segments = tuple(operation.path.split("/"))
        return cls(operation, segments, tuple(s[1:-1] if _is_label(s) else None for s in segments))

    @property
    def specificity(self) -> int:
        # a literal beats a label; a query literal beats none (POST /tags?operation=…)
        literals = sum(1 for s in self.segments if not _is_label(s))
        return literals * 10 + len(self.operation.query_literals)

    def match(
        self, method: str | None, segments: list[str], query: Mapping[str, list[str]] | None
    ) -> dict[str, str] | None:
        """The path labels' values if the request is this operation, else None.
        ``method`` None matches any method; ``query`` None skips the query literals."""
        if method not in (None, self.operation.method) or len(segments) != len(self.segments):
            return None
        labels: dict[str, str] = {}
        for template, label, value in zip(self.segments, self.labels, segments, strict=True):
            if label is not None:
                labels[label] = value
            elif template != value:
                return None
        for name, literal in self.operation.query_literals.items():
            if query is not None and query.get(name) != [literal]:
                return None
        return labels


class RouteTable:
    """Finds the operation a request is, and the values of its path labels."""

    def __init__(self, operations: Iterable[spec.Operation]) -> None:
        routes = [Route.of(op) for op in operations]
        self._routes = sorted(routes, key=lambda r: r.specificity, reverse=True)
        # the candidates of a request: same method, same number of segments (in order)
        self._by_shape: dict[tuple[str, int], list[Route]] = {}
        for route in self._routes:
            shape = (route.operation.method, len(route.segments))
            self._by_shape.setdefault(shape, []).append(route)

    def resolve(
        self, method: str, raw_path: str, query: Mapping[str, list[str]]
    ) -> tuple[spec.Operation, dict[str, str]]:
        """The operation and its path labels; 404 for an unknown path, 405 for
        a known path with a method it does not have."""
        segments = decoded_segments(raw_path)
        for route in self._by_shape.get((method, len(segments)), ()):
            labels = route.match(method, segments, query)
            if labels is not None:
                return route.operation, labels
        same_path = [r for r in self._routes if r.match(None, segments, None) is not None]
        literals = [r.operation.query_literals for r in same_path if r.operation.method == method]
        if literals:  # POST /tags without ?operation=tag-resource|untag-resource
            choices = " or ".join(f"?{k}={v}" for lit in literals for k, v in lit.items())
            raise BadRequestException(f"{method} {raw_path[:200]} needs the query {choices}.")
        allowed = sorted({r.operation.method for r in same_path})
        if allowed:
            raise MethodNotAllowedException(
                f"{raw_path[:200]} does not accept {method}; it accepts {', '.join(allowed)}.",
                tuple(allowed),
            )
        raise NotFoundException(f"No operation of this service is {method} {raw_path[:200]}.")


def decoded_segments(raw_path: str) -> list[str]:
    """The path's segments, split while still encoded, then each decoded as UTF-8.

    ``raw_path`` is in WSGI's form: each character one byte of the request line.
    """
    try:
        return [
            # a segment of plain ASCII without escapes is its own decoding
            s if s.isascii() and "%" not in s else unquote_to_bytes(s.encode("latin-1")).decode()
            for s in raw_path.split("/")
        ]
    except UnicodeDecodeError:
        raise BadRequestException("The request path is not valid percent-encoded UTF-8.") from None


def _is_label(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def route_table() -> RouteTable:
    return RouteTable(spec.operations())
