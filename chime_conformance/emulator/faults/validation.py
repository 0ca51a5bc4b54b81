"""Validation: a kind of constraint accepted when broken, or refused on its bound."""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chime_conformance.contract import spec
from chime_conformance.emulator.exceptions import ChimeError
from chime_conformance.emulator.faults.registry import fault
from chime_conformance.emulator.faults.seams import Dispatch, Violations

if TYPE_CHECKING:
    from chime_conformance.emulator.app import EmulatorApp


def accept_when_only(app: EmulatorApp, rule: str) -> None:
    """Requests whose only broken constraints are of kind ``rule`` are served;
    if the handler cannot cope with the value, the request is still answered
    with success (the validator let it through: the client sees it accepted)."""
    waived = threading.local()

    def transform(op: spec.Operation, members: dict[str, Any], found: Violations) -> Violations:
        waived.active = bool(found) and all(v.keyword == rule for v in found)
        return [] if waived.active else found

    def dispatcher(original: Dispatch) -> Dispatch:
        def dispatch(op: spec.Operation, members: dict[str, Any], caller: Any) -> Any:
            try:
                return original(op, members, caller)
            except ChimeError:
                raise
            except Exception:
                if getattr(waived, "active", False):
                    return None
                raise

        return dispatch

    app.hooks.filter_violations(transform)
    app.hooks.wrap_dispatch(dispatcher)


def _tightened(schema: Any, keyword: str, step: int) -> Any:
    """``schema`` with every ``keyword`` bound moved by ``step``."""
    if isinstance(schema, Mapping):
        moved = {k: _tightened(v, keyword, step) for k, v in schema.items()}
        if isinstance(moved.get(keyword), int) and not isinstance(moved[keyword], bool):
            moved[keyword] += step
        return moved
    if isinstance(schema, list):
        return [_tightened(item, keyword, step) for item in schema]
    return schema


def refuse_on_bound(app: EmulatorApp, keyword: str, step: int) -> None:
    """Valid requests with a value exactly on a ``keyword`` bound are refused
    (an exclusive comparison where the spec's bound is inclusive)."""

    @functools.cache
    def validator(operation: str) -> Any:
        schema = copy.deepcopy(spec.operation(operation).input_schema)
        return spec.validator(_tightened(schema, keyword, step))

    def transform(op: spec.Operation, members: dict[str, Any], found: Violations) -> Violations:
        if found:
            return found
        errors = [e for e in validator(op.name).iter_errors(members) if e.validator == keyword]
        return [
            spec.Violation(
                ".".join(map(str, e.absolute_path)) or "(request)",
                keyword,
                f"Value at '{'.'.join(map(str, e.absolute_path))}' failed to satisfy "
                f"constraint: {keyword} {e.validator_value}",
            )
            for e in errors
        ]

    app.hooks.filter_violations(transform)


def _register_unenforced(rule: str, name: str, sentence: str) -> None:
    fault(
        name,
        category="validation",
        breaks=f"A value that breaks its {rule} constraint is refused with 400 BadRequestException "
        f"(docs/contract.md validation); here {sentence} is accepted.",
    )(lambda app: accept_when_only(app, rule))


_register_unenforced("maxLength", "max_length_unenforced", "a string one character too long")
_register_unenforced("minLength", "min_length_unenforced", "a string one character too short")
_register_unenforced("pattern", "pattern_unenforced", "a string outside its pattern")
_register_unenforced("enum", "enum_unenforced", "a value outside its enum")
_register_unenforced("maximum", "maximum_unenforced", "a number above its maximum")
_register_unenforced("minimum", "minimum_unenforced", "a number below its minimum")
_register_unenforced("maxItems", "max_items_unenforced", "a list one item too long")
_register_unenforced("required", "required_unenforced", "a request missing a required member")
_register_unenforced("type", "type_unenforced", "a value of the wrong JSON type")


@fault(
    "max_length_exclusive",
    category="validation",
    breaks="A string exactly maxLength long is valid (the spec's bounds are inclusive); "
    "here it is refused with 400.",
)
def _max_length_exclusive(app: EmulatorApp) -> None:
    refuse_on_bound(app, "maxLength", -1)


@fault(
    "min_length_exclusive",
    category="validation",
    breaks="A string exactly minLength long is valid (the spec's bounds are inclusive); "
    "here it is refused with 400.",
)
def _min_length_exclusive(app: EmulatorApp) -> None:
    refuse_on_bound(app, "minLength", +1)


@fault(
    "maximum_exclusive",
    category="validation",
    breaks="MaxResults equal to its maximum (50; accounts 200) is valid (docs/contract.md pagination); "
    "here it is refused with 400.",
)
def _maximum_exclusive(app: EmulatorApp) -> None:
    refuse_on_bound(app, "maximum", -1)


@fault(
    "non_ascii_refused",
    category="validation",
    breaks="A Name of any Unicode letters matches its pattern (the spec's patterns are "
    "Unicode-aware); here a non-ASCII character makes it a 400.",
)
def _non_ascii_refused(app: EmulatorApp) -> None:
    def transform(op: spec.Operation, members: dict[str, Any], found: Violations) -> Violations:
        name = members.get("Name")
        if found or not isinstance(name, str) or name.isascii():
            return found
        return [spec.Violation("Name", "pattern", "Value at 'Name' must be ASCII")]

    app.hooks.filter_violations(transform)
