"""The pass-rate-per-family chart, as geometry for inline SVG.

Two bars a family: the share of its (operation, check) cells that pass, and
the share of its constraints covered from both sides. Each bar carries its
number as text, so the chart reads without colour.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

LABEL_WIDTH = 190
BAR_WIDTH = 420
BAR_HEIGHT = 14
ROW_HEIGHT = 40
TOP = 34
WIDTH = LABEL_WIDTH + BAR_WIDTH + 290


@dataclass(frozen=True)
class Bar:
    y: int
    length: float  # pixels filled, of BAR_WIDTH
    text: str  # "87% (35 of 40 cells)"


@dataclass(frozen=True)
class FamilyBars:
    family: str
    label_y: int
    cells: Bar
    constraints: Bar


def family_bars(document: Mapping[str, Any]) -> list[FamilyBars]:
    """The chart's rows, one per family of the results document."""
    coverage = _constraint_counts_by_family(document)
    rows = []
    for index, family in enumerate(document["families"]):
        y = TOP + index * ROW_HEIGHT
        covered, total = coverage.get(family["family"], (0, 0))
        rows.append(
            FamilyBars(
                family=family["family"],
                label_y=y + BAR_HEIGHT + 2,
                cells=_bar(
                    y, family["passing_cells"], family["cells_run"], "cells pass", "no cell ran"
                ),
                constraints=_bar(
                    y + BAR_HEIGHT + 2, covered, total, "constraints covered", "no constraints"
                ),
            )
        )
    return rows


def chart_height(rows: Iterable[FamilyBars]) -> int:
    return TOP + len(list(rows)) * ROW_HEIGHT + 4


def _bar(y: int, part: int, whole: int, what: str, when_none: str) -> Bar:
    if not whole:
        return Bar(y, 0.0, when_none)
    return Bar(y, BAR_WIDTH * part / whole, f"{100 * part / whole:.0f}% ({part} of {whole} {what})")


def _constraint_counts_by_family(document: Mapping[str, Any]) -> dict[str, tuple[int, int]]:
    family_of = {op["name"]: op["family"] for op in document["operations"]}
    counts: dict[str, tuple[int, int]] = {}
    for row in document["constraint_coverage"]["constraints"]:
        family = family_of.get(row["operation"])
        # a constraint that cannot be probed alone is no gap in the coverage
        if family is None or not row["in_catalogue"] or row.get("shadowed_by"):
            continue
        covered, total = counts.get(family, (0, 0))
        counts[family] = (covered + row["covered"], total + 1)
    return counts
