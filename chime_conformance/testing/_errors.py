"""The one error of :mod:`chime_conformance.testing`: the test double was misused."""

from __future__ import annotations


class MockChimeError(RuntimeError):
    """``mock_chime`` or the ``chime_emulator`` fixture was used in a way it cannot
    honour (nested out of order, entered from two threads at once, given a bad
    option); the message says which, in one sentence."""
