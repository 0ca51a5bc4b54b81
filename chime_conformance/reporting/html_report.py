"""compliance.html: one self-contained page rendered from a results document.

Every string in the document may come from the target, so the template is
autoescaped and the page forbids itself scripts and network access with a
Content-Security-Policy. Long request and response texts are cut in the page
(results.json keeps them whole), and failures are grouped by cause
(:mod:`~chime_conformance.reporting.failure_groups`), so the page grows with
the number of distinct causes, not with how often the target repeats one.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jinja2

from chime_conformance.reporting import family_chart
from chime_conformance.reporting.failure_groups import FailureCard, cause_groups, failure_cards
from chime_conformance.reporting.matrix import NOT_RUN, STATEFUL
from chime_conformance.reporting.run_scope import scope_of
from chime_conformance.run.results import FAIL, NOT_APPLICABLE, PASS

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


OPEN_EXAMPLES = 3  # cause groups whose first card shows its example unfolded
MAX_LISTED_EXAMPLES = 200  # per card; results.json keeps every one


def render_compliance_html(document: Mapping[str, Any]) -> str:
    """The report page of ``document`` (a results.json document)."""
    cards = failure_cards(document["records"])
    bars = family_chart.family_bars(document)
    template = _environment().get_template("compliance.html.j2")
    return template.render(
        doc=document,
        run=document["run"],
        scope=scope_of(document),
        score_percent=_percent(document["score"]["value"]),
        matrix_rows=_matrix_rows(document, _first_card_anchors(cards)),
        cell_looks=CELL_LOOKS,
        side_looks=SIDE_LOOKS,
        constraints=document["constraint_coverage"]["constraints"],
        constraint_summary=constraint_summary(document["constraint_coverage"]["constraints"]),
        cards=cards,
        stateful_cards=[c for c in cards if _is_stateful(c.minimal)],
        groups=cause_groups(cards),
        failing_records=sum(card.count for card in cards),
        tests_by_cause=tests_by_cause(document),
        open_examples=OPEN_EXAMPLES,
        max_examples=MAX_LISTED_EXAMPLES,
        request_text=lambda r: clipped(http_text(r.get("request"))),
        response_text=lambda r: clipped(http_text(r.get("response"))),
        first_line=first_line,
        clip=clipped,
        bars=bars,
        chart=family_chart,
        chart_height=family_chart.chart_height(bars),
        bound_text=bound_text,
    )


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    """One environment per process (it keeps the templates it compiled), with
    Jinja2's bytecode cache (a private directory of this user's under the
    temporary directory): compiling the templates was most of the time a
    small run spent on its reports."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("chime_conformance.reporting", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=_bytecode_cache(),
    )


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):  # no private cache directory can be made: compile
        return None


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _is_stateful(record: Mapping[str, Any]) -> bool:
    return bool(record.get("steps")) or record["operation"] == STATEFUL


def first_line(text: str | None, limit: int = 200) -> str:
    line = next((part for part in str(text or "").splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[:limit] + "…"


def tests_by_cause(document: Mapping[str, Any]) -> dict[str, list[str]]:
    """Every test that did not pass for a cause the verdict names, by cause."""
    found: dict[str, list[str]] = {}
    for outcome in (document.get("verdict") or {}).get("test_outcomes", []):
        if outcome.get("cause") and outcome.get("outcome") in ("failed", "error"):
            found.setdefault(outcome["cause"], []).append(outcome["test_id"])
    return found


@dataclass(frozen=True)
class ConstraintSummary:
    operation: str
    total: int
    covered: int
    broken: int
    not_probed: int
    shadowed: int

    @property
    def probeable(self) -> int:
        return self.total - self.shadowed


def constraint_summary(rows: Iterable[Mapping[str, Any]]) -> list[ConstraintSummary]:
    """Per operation: its constraints, and how many are covered, broken on a
    side, never probed, or cannot be probed alone."""
    counts: dict[str, list[int]] = {}
    for row in rows:
        tally = counts.setdefault(row["operation"], [0, 0, 0, 0, 0])
        tally[0] += 1
        if row.get("shadowed_by"):
            tally[4] += 1
        elif row["covered"]:
            tally[1] += 1
        elif "broken" in (row["inside"], row["outside"]):
            tally[2] += 1
        else:
            tally[3] += 1
    return [ConstraintSummary(op, *tally) for op, tally in counts.items()]


def _first_card_anchors(cards: Iterable[FailureCard]) -> dict[tuple[str, str], str]:
    anchors: dict[tuple[str, str], str] = {}
    for card in cards:
        anchors.setdefault((card.operation, card.check), card.anchor)
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
