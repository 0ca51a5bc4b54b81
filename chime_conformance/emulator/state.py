"""JSON snapshots of the whole state: ``--import`` at start, ``--export`` at shutdown.

A snapshot is not the durability mechanism (that is ``store.py``'s SQLite
store); it is a portable copy of the state, for seeding an emulator or keeping
a picture of one. Writing goes to ``.<name>.partial`` in the same folder,
flushed to disk, then renamed over the old file, so a crash mid-write leaves the
previous snapshot intact, never half a file; the one possible leftover has a
fixed name and is removed by the next export. A file that cannot be read as a
snapshot, however it is broken (bad JSON, any nesting depth, wrong types),
stops the emulator at startup with one sentence naming it, and is left untouched.
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from chime_conformance.contract.spec import nesting_depth
from chime_conformance.emulator.models import AccountsBackend, EmulatorBackend, IdentityBackend
from chime_conformance.emulator.pagination import PageTokens

# deeper than any record the API can create (request bodies stop at 64 levels)
MAX_STATE_DEPTH = 100


class StateFileError(Exception):
    """The state file or store is not one this emulator can load or write."""


def load_state(backend: EmulatorBackend, path: Path) -> bool:
    """Restores ``backend`` from ``path``; False when there is no file yet."""
    if not path.exists():
        return False
    try:
        snapshot = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(snapshot, dict):
            raise ValueError("the top level is not a JSON object")
        if nesting_depth(snapshot) > MAX_STATE_DEPTH:
            raise ValueError(f"it nests deeper than {MAX_STATE_DEPTH} levels")
        backend.restore(snapshot)
        check_records(backend, snapshot)
    except (
        OSError,
        UnicodeDecodeError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        RecursionError,
    ) as error:
        backend.reset()
        raise StateFileError(
            f"state file {path} is not a valid chime-emulator snapshot "
            f"({type(error).__name__}: {one_line(error)}); fix or remove it, it was not modified"
        ) from None
    return True


def save_state(backend: EmulatorBackend, path: Path) -> None:
    """Writes a snapshot of ``backend`` to ``path`` atomically (partial file + rename)."""
    text = json.dumps(backend.snapshot(), indent=1, sort_keys=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def one_line(error: BaseException) -> str:
    text = str(error).splitlines()[0][:200] if str(error) else ""
    return text or type(error).__name__


# --------------------------------------------------------------------------
# What a restored state must look like


def record_tables(kind: type[IdentityBackend | AccountsBackend]) -> list[str]:
    """The names of the record tables (dicts of records) of a ``kind`` backend:
    the lists of its snapshot."""
    empty = _EMPTY[kind]
    return [name for name, value in empty.snapshot().items() if isinstance(value, list)]


def scoped_backends(
    backend: EmulatorBackend, snapshot: dict[str, Any]
) -> Iterator[IdentityBackend | AccountsBackend]:
    """The per-account-and-region backends a snapshot restored."""
    for entry in snapshot["identity"]:
        yield backend.identity(entry["account_id"], entry["region"])
    for entry in snapshot["accounts"]:
        yield backend.accounts(entry["account_id"], entry["region"])


def check_records(backend: EmulatorBackend, snapshot: dict[str, Any]) -> None:
    """ValueError naming the first record field whose type is not the model's, so a
    hostile file cannot plant a value that fails later, in the middle of a request."""
    for scoped in scoped_backends(backend, snapshot):
        for table in record_tables(type(scoped)):
            for key, record in getattr(scoped, table).items():
                if not isinstance(key, str):
                    raise ValueError(f"{table}: key {key!r} is not a string")
                _check_record(table, record)


_EMPTY: dict[type, Any] = {
    IdentityBackend: IdentityBackend("", "", PageTokens(b"")),
    AccountsBackend: AccountsBackend("", "", PageTokens(b"")),
}
_HINTS: dict[type, dict[str, Any]] = {}


def _check_record(table: str, record: Any) -> None:
    kind = type(record)
    if kind not in _HINTS:
        _HINTS[kind] = get_type_hints(kind)
    for item in dataclasses.fields(record):
        value = getattr(record, item.name)
        if not _conforms(value, _HINTS[kind][item.name]):
            raise ValueError(
                f"in {table}, {item.name} of a {kind.__name__} is a {type(value).__name__}, "
                f"not {_HINTS[kind][item.name]}"
            )


def _conforms(value: Any, hint: Any) -> bool:
    if hint is Any:
        return True
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        return any(_conforms(value, option) for option in get_args(hint))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is dict:
        key_hint, value_hint = get_args(hint)
        return isinstance(value, dict) and all(
            _conforms(k, key_hint) and _conforms(v, value_hint) for k, v in value.items()
        )
    if origin is list:
        (item_hint,) = get_args(hint)
        return isinstance(value, list) and all(_conforms(v, item_hint) for v in value)
    return isinstance(value, origin or hint)
