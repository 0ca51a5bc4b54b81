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
the variable nothing contacts GitHub. (The variables are read with the rest
of the run's settings, :mod:`chime_conformance.pytest_plugin.options`.)

The ``ci`` profile uses no database: it is derandomized so that every ci run,
on every machine, tries the same examples and two ci runs (or a run and its
shards) can be compared cell by cell; examples carried over from elsewhere
would make its verdicts depend on the machine's history.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis.database import (
    DirectoryBasedExampleDatabase,
    ExampleDatabase,
    GitHubArtifactDatabase,
    MultiplexedDatabase,
    ReadOnlyDatabase,
)

DEFAULT_DIR = Path(".hypothesis") / "examples"
DEFAULT_ARTIFACT = "chime-conformance-examples"


def example_database(
    examples_dir: str | Path | None = None,
    examples_repo: str | None = None,
    examples_artifact: str | None = None,
) -> ExampleDatabase:
    """The local directory, multiplexed with the nightly's artifact of the
    GitHub repository ``examples_repo`` (``owner/name``, checked by
    :func:`chime_conformance.run.config.github_repository`) when one is given."""
    local = DirectoryBasedExampleDatabase(examples_dir or DEFAULT_DIR)
    if not examples_repo:
        return local
    owner, _, name = examples_repo.partition("/")
    artifact = examples_artifact or DEFAULT_ARTIFACT
    shared = GitHubArtifactDatabase(owner, name, artifact_name=artifact)
    return MultiplexedDatabase(local, ReadOnlyDatabase(shared))
