"""The fault registry: every fault by name, its category and the fact it breaks.

A fault module registers each of its installers with :func:`fault`; an
installer changes one emulator only through its public hooks
(``app.hooks``, ``app.backend.wrap_rule``, ``app.backend.wrap_page_tokens``).
Which checks and tests of the suite must catch a fault is not recorded here:
the emulator knows nothing of the suite (that is ``tests/support/fault_catalogue.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chime_conformance.emulator.app import EmulatorApp

__all__ = [
    "CATEGORIES",
    "FAULTS",
    "Fault",
    "FaultError",
    "Installer",
    "UnknownFault",
    "fault",
    "fault_table",
    "lookup",
]

Installer = Callable[["EmulatorApp"], None]

CATEGORIES = (
    "validation",
    "status codes",
    "error shape",
    "response shape",
    "ARN format",
    "read-after-write",
    "delete and cascade",
    "pagination",
    "idempotency",
    "tags",
    "settings",
    "admins",
    "endpoints",
    "auth",
    "accounts",
    "robustness",
    "isolation",
    "protocol",
    "concurrency",
)


class FaultError(ValueError):
    """A fault was asked for wrongly: unknown, named twice, or without consent."""


class UnknownFault(FaultError):
    def __init__(self, name: str) -> None:
        super().__init__(
            f"unknown fault {name!r}; the known faults are: {', '.join(sorted(FAULTS))}"
        )


@dataclass(frozen=True)
class Fault:
    """One deliberate break of one contract fact."""

    name: str
    category: str
    breaks: str  # the documented fact it breaks, in one sentence
    install: Installer


FAULTS: dict[str, Fault] = {}


def fault(name: str, *, category: str, breaks: str) -> Callable[[Installer], Installer]:
    """Register the decorated installer as fault ``name``."""
    if category not in CATEGORIES:
        raise ValueError(f"fault {name!r}: unknown category {category!r}")

    def register(install: Installer) -> Installer:
        if name in FAULTS:
            raise ValueError(f"a fault named {name!r} is already registered")
        FAULTS[name] = Fault(name, category, breaks, install)
        return install

    return register


def lookup(name: str) -> Fault:
    """The fault named ``name``; :class:`UnknownFault` if there is none."""
    try:
        return FAULTS[name]
    except KeyError:
        raise UnknownFault(name) from None


def fault_table() -> str:
    """Every fault, one line each: name, category, the fact it breaks (``--list-faults``)."""
    width = max(len(name) for name in FAULTS)
    return "\n".join(
        f"{f.name:<{width}}  [{f.category}] {f.breaks}"
        for f in sorted(FAULTS.values(), key=lambda f: (CATEGORIES.index(f.category), f.name))
    )
