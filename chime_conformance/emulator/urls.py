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

from chime_conformance import spec
from chime_conformance.emulator.exceptions import BadRequestException


@dataclass(frozen=True)
class Route:
    operation: spec.Operation
    segments: tuple[str, ...]  # literal segments; "{label}" marks a path label

    @classmethod
    def of(cls, operation: spec.Operation) -> Route:
        return cls(operation, tuple(operation.path.split("/")))

    @property
    def specificity(self) -> int:
        # a literal beats a label; a query literal beats none (POST /tags?operation=…)
        literals = sum(1 for s in self.segments if not _is_label(s))
        return literals * 10 + len(self.operation.query_literals)

    def match(
        self, method: str, segments: list[str], query: Mapping[str, list[str]]
    ) -> dict[str, str] | None:
        """The path labels' values if the request is this operation, else None."""
        if method != self.operation.method or len(segments) != len(self.segments):
            return None
        labels: dict[str, str] = {}
        for template, value in zip(self.segments, segments, strict=True):
            if _is_label(template):
                labels[template[1:-1]] = value
            elif template != value:
                return None
        for name, literal in self.operation.query_literals.items():
            if query.get(name) != [literal]:
                return None
        return labels


class RouteTable:
    """Finds the operation a request is, and the values of its path labels."""

    def __init__(self, operations: Iterable[spec.Operation]) -> None:
        routes = [Route.of(op) for op in operations]
        self._routes = sorted(routes, key=lambda r: r.specificity, reverse=True)

    def resolve(
        self, method: str, raw_path: str, query: Mapping[str, list[str]]
    ) -> tuple[spec.Operation, dict[str, str]] | None:
        segments = decoded_segments(raw_path)
        for route in self._routes:
            labels = route.match(method, segments, query)
            if labels is not None:
                return route.operation, labels
        return None


def decoded_segments(raw_path: str) -> list[str]:
    """The path's segments, split while still encoded, then each decoded as UTF-8.

    ``raw_path`` is in WSGI's form: each character one byte of the request line.
    """
    try:
        return [unquote_to_bytes(s.encode("latin-1")).decode("utf-8") for s in raw_path.split("/")]
    except UnicodeDecodeError:
        raise BadRequestException("The request path is not valid percent-encoded UTF-8.") from None


def _is_label(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def route_table() -> RouteTable:
    return RouteTable(spec.operations())
