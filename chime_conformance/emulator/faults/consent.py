"""Faults are off unless asked for twice: a name, and consent.

In-process: ``EmulatorConfig(faults=(...), allow_faults=True)``; on the command
line: ``chime-emulator --fault NAME --allow-faults``, or the environment
variable :data:`ALLOW_FAULTS_ENV` for harnesses that cannot add a flag. A
faulty emulator logs a banner and stamps every answer with :data:`FAULTS_HEADER`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from chime_conformance.emulator.faults.registry import FaultError, lookup

if TYPE_CHECKING:
    from chime_conformance.emulator.app import EmulatorApp, EmulatorConfig
    from chime_conformance.emulator.hooks import Extension

__all__ = [
    "ALLOW_FAULTS_ENV",
    "FAULTS_HEADER",
    "FaultsNotAllowed",
    "consent_from_environment",
    "fault_extensions",
    "install_faults",
]

logger = logging.getLogger("chime_conformance.emulator")

FAULTS_HEADER = "x-chime-emulator-faults"
# The command line's second key, for harnesses that cannot add a flag.
ALLOW_FAULTS_ENV = "CHIME_EMULATOR_ALLOW_CONTRACT_BREAKING_FAULTS"


class FaultsNotAllowed(FaultError):
    def __init__(self, names: Sequence[str]) -> None:
        super().__init__(
            f"refusing to break the contract on purpose (faults {', '.join(names)}) without "
            "consent: pass --allow-faults (or set "
            f"{ALLOW_FAULTS_ENV}=1), or EmulatorConfig(allow_faults=True) in-process"
        )


def consent_from_environment(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether :data:`ALLOW_FAULTS_ENV` gives consent (it must be exactly ``1``)."""
    return environ.get(ALLOW_FAULTS_ENV) == "1"


def install_faults(app: EmulatorApp, names: Sequence[str], *, allowed: bool) -> tuple[str, ...]:
    """Install the named faults on ``app``; the names, in order.

    Unknown names are an :class:`UnknownFault` even with consent; any fault
    without consent is :class:`FaultsNotAllowed`."""
    if not names:
        return ()
    faults = [lookup(name) for name in names]
    if len(set(names)) != len(names):
        raise FaultError(f"a fault is named twice in {', '.join(names)}")
    if not allowed:
        raise FaultsNotAllowed(names)
    for fault in faults:
        fault.install(app)
    # nobody mistakes a broken emulator for a good one
    app.hooks.stamp_answers(FAULTS_HEADER, ",".join(names))
    app.hooks.report_health("Faults", list(names))
    logger.warning(
        "\n%s\nchime-emulator: FAULTS INJECTED (%s). This emulator breaks the contract on "
        "purpose; every answer carries %s.\n%s",
        "!" * 78,
        ", ".join(names),
        FAULTS_HEADER,
        "!" * 78,
    )
    return tuple(names)


def fault_extensions(config: EmulatorConfig) -> tuple[Extension, ...]:
    """What ``EmulatorApp(config, extensions=...)`` needs to install
    ``config.faults`` (refused there without ``config.allow_faults``)."""
    if not config.faults:
        return ()

    def install(app: EmulatorApp) -> None:
        install_faults(app, config.faults, allowed=config.allow_faults)

    return (install,)
