"""Usage errors found before the run sends its first request.

Each is one sentence and exit status 4 (pytest's usage error). The options
are checked as pytest parses them (:mod:`~chime_conformance.pytest_plugin.options`)
and the baseline when it is loaded; what is left is checked here: a report
directory (or ``--junitxml`` file) that cannot be created or written, which
the JUnit writer would otherwise find only at the very end of the run, and a
Hypothesis profile nobody registered.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from chime_conformance.run.config import SuiteConfig


def refuse_unwritable_outputs(config: pytest.Config, suite: SuiteConfig) -> None:
    """Raise :class:`pytest.UsageError` (one sentence) if the reports cannot be
    written where the run would write them; called before the target is probed."""
    if config.option.collectonly:
        return  # --co writes nothing
    refuse_unwritable_directory(suite.report_dir, "--report-dir")
    if config.option.xmlpath:
        junit = Path(os.path.expanduser(config.option.xmlpath))
        refuse_unwritable_directory(junit.parent, "--junitxml")


def refuse_unwritable_directory(directory: Path, option: str) -> None:
    """Create ``directory`` if needed and write a file in it, or raise
    :class:`pytest.UsageError` saying why not (permission bits alone do not
    tell: root ignores them, a read-only file system does not)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".chime-probe-"):
            pass
    except OSError as error:
        why = error.strerror or type(error).__name__
        raise pytest.UsageError(
            f"{option} {directory}: cannot write reports there ({why})"
        ) from None


def load_hypothesis_profile(name: str, *, asked: str, known: Mapping[str, str]) -> None:
    """Load Hypothesis profile ``name`` (``asked`` on the command line), or
    raise :class:`pytest.UsageError` naming the profiles there are."""
    from hypothesis import settings
    from hypothesis.errors import InvalidArgument

    try:
        settings.load_profile(name)
    except InvalidArgument:
        raise pytest.UsageError(
            f"--hypothesis-profile {asked!r} is not a profile of the suite; "
            f"the profiles are {', '.join(known)}"
        ) from None
