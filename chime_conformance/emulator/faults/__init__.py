"""Deliberate contract breaks: the proof that a suite catches what it claims to.

A fault breaks exactly one documented fact of the contract (the spec, or the
emulator README's decisions) by wrapping one public seam of one emulator, never
by editing the rule it breaks: an operation's handler, the violations a request
is found to have, the call of a handler, SigV4 verification, the API's answers
(``app.hooks``, see ``emulator/hooks.py``), one rule of the models
(``app.backend.wrap_rule``) or the NextToken issuer
(``app.backend.wrap_page_tokens``).

Layout: :mod:`.registry` (the :class:`Fault` record, the registry, lookup and
``--list-faults``), :mod:`.consent` (faults are off unless asked for twice),
:mod:`.seams` (helpers shared by the categories) and one module per category.
Which checks and tests of the suite must catch each fault is not the
emulator's business: ``tests/support/fault_catalogue.py`` says it.

The emulator does not import this package: ``server.start_emulator`` builds
``EmulatorApp(config, extensions=fault_extensions(config))``.
"""

from chime_conformance.emulator.faults import (  # noqa: F401  (each registers its faults)
    accounts,
    admins,
    arns,
    auth,
    cascade,
    endpoints,
    error_shape,
    idempotency,
    pagination,
    promises,
    races,
    read_after_write,
    response_shape,
    robustness,
    settings,
    status_codes,
    tags,
    validation,
)
from chime_conformance.emulator.faults.consent import (
    ALLOW_FAULTS_ENV,
    FAULTS_HEADER,
    FaultsNotAllowed,
    consent_from_environment,
    fault_extensions,
    install_faults,
)
from chime_conformance.emulator.faults.registry import (
    CATEGORIES,
    FAULTS,
    Fault,
    FaultError,
    UnknownFault,
    fault_table,
    lookup,
)

__all__ = [
    "ALLOW_FAULTS_ENV",
    "CATEGORIES",
    "FAULTS",
    "FAULTS_HEADER",
    "Fault",
    "FaultError",
    "FaultsNotAllowed",
    "UnknownFault",
    "consent_from_environment",
    "fault_extensions",
    "fault_table",
    "install_faults",
    "lookup",
]
