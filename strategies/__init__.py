"""Moved to :mod:`chime_conformance.strategies` (so the wheel ships it without
a generic top-level name). This name stays for a checkout's old imports: it is
the very same module."""

# chime-conformance relayout shim
import sys

from chime_conformance import strategies as _strategies

sys.modules[__name__] = _strategies
