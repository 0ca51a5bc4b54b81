"""The optional state file: loaded at start, written atomically at shutdown.

Writing goes to a temporary file in the same folder, flushed to disk, then
renamed over the old file, so a crash mid-write leaves the previous snapshot
intact, never half a file. A file that cannot be read as a snapshot stops the
emulator at startup with a sentence naming it, and is left untouched.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from chime_conformance.emulator.models import EmulatorBackend


class StateFileError(Exception):
    """The state file exists but is not a snapshot this emulator can load."""


def load_state(backend: EmulatorBackend, path: Path) -> bool:
    """Restores ``backend`` from ``path``; False when there is no file yet."""
    if not path.exists():
        return False
    try:
        snapshot = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(snapshot, dict):
            raise ValueError("the top level is not a JSON object")
        backend.restore(snapshot)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as error:
        backend.reset()
        raise StateFileError(
            f"state file {path} is not a valid chime-emulator snapshot "
            f"({type(error).__name__}: {error}); fix or remove it, it was not modified"
        ) from error
    return True


def save_state(backend: EmulatorBackend, path: Path) -> None:
    """Writes a snapshot of ``backend`` to ``path`` atomically (tmp + rename)."""
    text = json.dumps(backend.snapshot(), indent=1, sort_keys=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
