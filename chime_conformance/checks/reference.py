"""Agreement with a reference (docs/contract.md reference-agreement): the
differential comparison of a run with --reference-url,
chime_conformance.run.differential."""

from __future__ import annotations

from chime_conformance.checks.registry import DIFFERENTIAL, declare

AGREES_WITH_REFERENCE = declare(
    "agrees_with_reference",
    rule="reference-agreement",
    description="The target answers as the reference: same status, error type and shape.",
    kind=DIFFERENTIAL,
)
