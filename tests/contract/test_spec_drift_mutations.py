"""The drift check notices the loss of every single constraint of either spec.

On a copy of each document, one constraint at a time is removed (every
length, range, size, pattern and enum keyword, every ``required`` list entry
and every ``required: true``, wherever it is, $ref'ed components included),
and the drift check must report a new difference that names it. A constraint
whose loss goes unnoticed is either unchecked by tests/support/spec_drift.py or dead in
the spec (unreachable from any operation); both are worth a failure.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from chime_conformance.contract.spec import ACCOUNTS, APIS, load_document
from tests.support.spec_drift import Difference, DriftCheck, drift_check

CONSTRAINT_KEYWORDS = frozenset(
    {"minLength", "maxLength", "pattern", "enum", "minimum", "maximum", "minItems", "maxItems"}
)
# Example data and links are values, not schemas: a key named "required" there means nothing.
DATA_KEYS = frozenset({"example", "examples", "links"})
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Removal:
    """One constraint to take out: ``keyword`` of the object at ``path``.

    ``entry`` is the member name for an entry of a ``required`` list, else None.
    """

    path: Path
    keyword: str
    entry: str | None = None

    def label(self) -> str:
        pointer = "/".join(str(token) for token in (*self.path, self.keyword))
        return f"/{pointer}" + (f"[{self.entry}]" if self.entry is not None else "")

    def named_by(self, difference: Difference) -> bool:
        if difference.fact != self.keyword:
            return False
        return self.entry is None or difference.where.endswith(f".{self.entry}")

    def apply(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of ``document`` without this constraint (only the path is copied)."""
        return _rebuilt(document, self.path, self._remove)

    def _remove(self, owner: Mapping[str, Any]) -> dict[str, Any]:
        trimmed = dict(owner)
        if self.entry is None:
            del trimmed[self.keyword]
        else:
            trimmed[self.keyword] = [name for name in owner[self.keyword] if name != self.entry]
        return trimmed


def _rebuilt(node: Any, path: Path, change: Any) -> Any:
    if not path:
        return change(node)
    head, *rest = path
    copy = list(node) if isinstance(node, list) else dict(node)
    copy[head] = _rebuilt(node[head], tuple(rest), change)  # type: ignore[index]
    return copy


def removable_constraints(node: Any, path: Path = ()) -> Iterator[Removal]:
    """Every constraint in ``node``, wherever it sits."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from removable_constraints(item, (*path, index))
        return
    if not isinstance(node, Mapping):
        return
    for key, value in node.items():
        if key in DATA_KEYS:
            continue
        if key == "properties" and isinstance(value, Mapping):
            # property names are names, not keywords (a property may be called "enum")
            for name, schema in value.items():
                yield from removable_constraints(schema, (*path, key, name))
            continue
        yield from _constraints_at(path, key, value)
        yield from removable_constraints(value, (*path, key))


def _constraints_at(path: Path, key: str, value: Any) -> Iterator[Removal]:
    if key in CONSTRAINT_KEYWORDS:
        yield Removal(path, key)
    elif key == "required" and isinstance(value, list):
        yield from (Removal(path, key, name) for name in value)
    elif key == "required" and value is True:
        yield Removal(path, key)


def unnoticed_removals(check: DriftCheck) -> Iterator[str]:
    baseline = {difference.line() for difference in check.all_differences()}
    for removal in removable_constraints(check.document):
        mutated = check.with_document(removal.apply(check.document))
        new = [d for d in mutated.all_differences() if d.line() not in baseline]
        if not any(removal.named_by(difference) for difference in new):
            found = "; ".join(d.line() for d in new) or "no new difference"
            yield f"{removal.label()}: {found}"


@pytest.mark.parametrize("api", APIS)
def test_removing_any_single_constraint_is_reported(api: str) -> None:
    check = drift_check(api)
    assert any(removable_constraints(check.document)), (
        f"spec/{api}.openapi.yaml states no constraint"
    )
    unnoticed = list(unnoticed_removals(check))
    if unnoticed:
        lines = "\n".join(unnoticed)
        pytest.fail(
            f"{len(unnoticed)} constraint(s) of {api} whose removal the drift check "
            f"does not report:\n{lines}",
            pytrace=False,
        )


def test_the_accounts_spec_alone_has_constraints_of_every_kind() -> None:
    # Keeps the mutation test meaningful while the identity spec is a placeholder.
    keywords = {removal.keyword for removal in removable_constraints(load_document(ACCOUNTS))}
    assert keywords >= {
        "minLength",
        "maxLength",
        "pattern",
        "enum",
        "minimum",
        "maximum",
        "required",
    }


def test_removal_copies_only_along_its_path() -> None:
    document = {"a": {"b": {"maxLength": 3, "required": ["X", "Y"]}}, "c": {"d": 1}}
    removals = list(removable_constraints(document))
    assert [r.label() for r in removals] == [
        "/a/b/maxLength",
        "/a/b/required[X]",
        "/a/b/required[Y]",
    ]
    mutated = removals[1].apply(document)
    assert mutated == {"a": {"b": {"maxLength": 3, "required": ["Y"]}}, "c": {"d": 1}}
    assert mutated["c"] is document["c"] and document["a"]["b"]["required"] == ["X", "Y"]
