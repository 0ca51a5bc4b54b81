"""Where Hypothesis keeps the examples that failed: failures found anywhere replay everywhere.

Locally, a directory (``.hypothesis/examples``, or
``$CHIME_CONFORMANCE_EXAMPLES_DIR``): the next run replays what the last one
found, first. When ``$CHIME_CONFORMANCE_EXAMPLES_REPO`` names a GitHub
repository (``owner/name``), the examples its nightly workflow uploaded (the
artifact ``$CHIME_CONFORMANCE_EXAMPLES_ARTIFACT``, default
``chime-conformance-examples``) are read too, through Hypothesis' own
``GitHubArtifactDatabase``, read-only; what this run finds is saved locally
only. That artifact needs ``$GITHUB_TOKEN`` (in the workflow, the job's
token; on a laptop, a token that may read the repository's Actions); without
the variable nothing contacts GitHub.

The ``ci`` profile uses no database: it is derandomized so that every ci run,
on every machine, tries the same examples and two ci runs (or a run and its
shards) can be compared cell by cell; examples carried over from elsewhere
would make its verdicts depend on the machine's history.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from hypothesis.database import (
    DirectoryBasedExampleDatabase,
    ExampleDatabase,
    GitHubArtifactDatabase,
    MultiplexedDatabase,
    ReadOnlyDatabase,
)

from chime_conformance.run.config import ConfigurationError

DIR_ENV = "CHIME_CONFORMANCE_EXAMPLES_DIR"
REPO_ENV = "CHIME_CONFORMANCE_EXAMPLES_REPO"
ARTIFACT_ENV = "CHIME_CONFORMANCE_EXAMPLES_ARTIFACT"
DEFAULT_DIR = Path(".hypothesis") / "examples"
DEFAULT_ARTIFACT = "chime-conformance-examples"
_REPO = re.compile(r"([A-Za-z0-9][A-Za-z0-9-]*)/([A-Za-z0-9._-]+)")


def example_database(environ: Mapping[str, str] = os.environ) -> ExampleDatabase:
    """The local directory, multiplexed with the nightly's artifact when
    ``$CHIME_CONFORMANCE_EXAMPLES_REPO`` is set. Raises
    :class:`ConfigurationError` for a repository that is not ``owner/name``."""
    local = DirectoryBasedExampleDatabase(environ.get(DIR_ENV) or DEFAULT_DIR)
    repo = (environ.get(REPO_ENV) or "").strip()
    if not repo:
        return local
    match = _REPO.fullmatch(repo)
    if not match:
        raise ConfigurationError(f"{REPO_ENV} must be a GitHub repository owner/name, got {repo!r}")
    shared = GitHubArtifactDatabase(
        match[1], match[2], artifact_name=environ.get(ARTIFACT_ENV) or DEFAULT_ARTIFACT
    )
    return MultiplexedDatabase(local, ReadOnlyDatabase(shared))
