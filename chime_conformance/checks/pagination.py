"""Lists (docs/contract.md pagination, list-consistency): checks that walk a
List through its pages, run by the scenarios and the state machines and
recorded through chime_conformance.run.recorder."""

from __future__ import annotations

from chime_conformance.checks.registry import declare

PAGINATION = declare(
    "pagination",
    rule="pagination",
    description="Pages hold at most MaxResults items; NextToken visits every item once, then ends.",
)
LIST_MATCHES_MODEL = declare(
    "list_matches_model",
    rule="list-consistency",
    description="A List walked through every NextToken shows what was created and not deleted.",
)
DELETED_NOT_LISTED = declare(
    "deleted_not_listed",
    rule="list-consistency",
    description="A deleted (deregistered, demoted) member is never listed under its parent again.",
)
