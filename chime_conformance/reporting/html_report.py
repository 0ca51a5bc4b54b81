"""compliance.html: one self-contained page rendered from a results document.

Every string in the document may come from the target, so the template is
autoescaped and the page forbids itself scripts and network access with a
Content-Security-Policy. Long request and response texts are cut in the page
(results.json keeps them whole), and so is the number of failure sections,
so the page stays small whatever the target sends back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jinja2

from chime_conformance.reporting import family_chart
from chime_conformance.reporting.matrix import NOT_RUN, STATEFUL
from chime_conformance.run.results import FAIL, NOT_APPLICABLE, PASS

MAX_FAILURE_SECTIONS = 100
MAX_BLOCK_CHARS = 3000
MAX_BOUND_CHARS = 80


@dataclass(frozen=True)
class CellLook:
    """How a cell state shows: colour for the eye, symbol and word for grayscale."""

    css_class: str
    symbol: str
    word: str


CELL_LOOKS: Mapping[str, CellLook] = {
    PASS: CellLook("pass", "✓", "pass"),
    FAIL: CellLook("fail", "✗", "FAIL"),
    NOT_APPLICABLE: CellLook("na", "–", "not applicable"),
    NOT_RUN: CellLook("notrun", "○", "not run"),
}
SIDE_LOOKS: Mapping[str, CellLook] = {
    "held": CellLook("pass", "✓", "held"),
    "broken": CellLook("fail", "✗", "broken"),
    "not_probed": CellLook("notrun", "○", "not probed"),
}


@dataclass(frozen=True)
class FailureView:
    anchor: str
    record: Mapping[str, Any]
    request_text: str
    response_text: str


def render_compliance_html(document: Mapping[str, Any]) -> str:
    """The report page of ``document`` (a results.json document)."""
    failures = failure_views(document["records"])
    stateful = [f for f in failures if _is_stateful(f.record)]
    per_check = [f for f in failures if not _is_stateful(f.record)]
    bars = family_chart.family_bars(document)
    template = _environment().get_template("compliance.html.j2")
    return template.render(
        doc=document,
        run=document["run"],
        score_percent=_percent(document["score"]["value"]),
        matrix_rows=_matrix_rows(document, _first_failure_anchors(failures)),
        cell_looks=CELL_LOOKS,
        side_looks=SIDE_LOOKS,
        constraints=document["constraint_coverage"]["constraints"],
        shown_failures=per_check[:MAX_FAILURE_SECTIONS],
        hidden_failures=max(0, len(per_check) - MAX_FAILURE_SECTIONS),
        stateful_failures=stateful[:MAX_FAILURE_SECTIONS],
        hidden_stateful=max(0, len(stateful) - MAX_FAILURE_SECTIONS),
        bars=bars,
        chart=family_chart,
        chart_height=family_chart.chart_height(bars),
        bound_text=bound_text,
    )


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("chime_conformance.reporting", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _is_stateful(record: Mapping[str, Any]) -> bool:
    return bool(record.get("steps")) or record["operation"] == STATEFUL


def failure_views(records: Iterable[Mapping[str, Any]]) -> list[FailureView]:
    """One view per failing record, anchored ``failure-1``, ``failure-2``…"""
    failing = [r for r in records if r["outcome"] == FAIL]
    return [
        FailureView(
            anchor=f"failure-{number}",
            record=record,
            request_text=clipped(http_text(record.get("request"))),
            response_text=clipped(http_text(record.get("response"))),
        )
        for number, record in enumerate(failing, start=1)
    ]


def _first_failure_anchors(failures: Iterable[FailureView]) -> dict[tuple[str, str], str]:
    anchors: dict[tuple[str, str], str] = {}
    for failure in failures:
        key = (failure.record["operation"], failure.record["check"])
        anchors.setdefault(key, failure.anchor)
    return anchors


def _matrix_rows(
    document: Mapping[str, Any], anchors: Mapping[tuple[str, str], str]
) -> list[dict[str, Any]]:
    by_key = {(c["operation"], c["check"]): c for c in document["matrix"]}
    return [
        {
            "operation": op,
            "cells": [
                {**by_key[(op["name"], check)], "anchor": anchors.get((op["name"], check))}
                for check in document["checks"]
            ],
        }
        for op in document["operations"]
    ]


def http_text(part: Mapping[str, Any] | None) -> str:
    """A redacted request or response as HTTP-like text: start line, headers, body."""
    if not part:
        return ""
    rest = dict(part)
    lines = _start_line(rest)
    headers = rest.pop("headers", None) or {}
    lines.extend(f"{name}: {value}" for name, value in dict(headers).items())
    body = rest.pop("body", None)
    if rest:
        lines.append(json.dumps(rest, indent=2, ensure_ascii=False, default=str))
    if body not in (None, "", b""):
        lines.extend(["", _body_text(body)])
    return "\n".join(lines)


def _start_line(rest: dict[str, Any]) -> list[str]:
    if "method" in rest or "url" in rest:
        return [f"{rest.pop('method', '')} {rest.pop('url', '')}".strip()]
    if "status" in rest:
        return [f"HTTP {rest.pop('status')}"]
    return []


def _body_text(body: Any) -> str:
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return body
    return json.dumps(body, indent=2, ensure_ascii=False, default=str)


def clipped(text: str, limit: int = MAX_BLOCK_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… ({len(text) - limit} more characters in results.json)"


def bound_text(bound: Any) -> str:
    text = bound if isinstance(bound, str) else json.dumps(bound, ensure_ascii=False)
    return clipped(text, MAX_BOUND_CHARS).replace("\n", " ")
