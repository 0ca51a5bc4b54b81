"""The durable store: every acknowledged write is in SQLite before its 2xx.

``StoredBackend`` is an :class:`EmulatorBackend` whose record tables (the
``dict`` attributes named by each backend's ``snapshot()``: ``app_instances``,
``users``, …, ``accounts``) remember which keys a request touched. The app calls
:meth:`StoredBackend.commit` under the backend lock once the handler has run and
before the answer is sent: one SQLite transaction writes the touched records
(or deletes them, when they are gone) and the scope's sequence counter. Writes
cost what they touch, never the size of the state.

Why SQLite (WAL, ``synchronous=FULL``): it is in the standard library, a commit
is atomic and durable by construction, a crash at any instant leaves a
database that opens (SQLite's recovery replays or discards the WAL), and there
is no temporary file of ours to clean up. In WAL mode ``NORMAL`` would already
survive the process being killed (the WAL is in the OS page cache), but only
``FULL`` also survives the machine losing power, and a 2xx promises durability
without ifs; the cost is one fsync of the WAL per write request.

A record is marked when its key is looked up, stored or removed in its table
(every rule of ``models.py`` finds a record by key before changing it), so a
read-only request marks records too: its commit rewrites them unchanged, which
is harmless; ``GET`` requests skip the commit entirely (see ``app.py``).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path
from typing import Any

from chime_conformance.contract.spec import nesting_depth
from chime_conformance.emulator.models import (
    SNAPSHOT_FORMAT,
    AccountsBackend,
    EmulatorBackend,
    IdentityBackend,
)
from chime_conformance.emulator.state import (
    MAX_STATE_DEPTH,
    StateFileError,
    check_records,
    one_line,
    record_tables,
)

STORE_FORMAT = "chime-emulator-store/1"
Scope = tuple[str, str, str]  # ("identity" | "accounts", account id, region)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scopes (
    kind TEXT NOT NULL, account_id TEXT NOT NULL, region TEXT NOT NULL,
    next_seq INTEGER NOT NULL,
    PRIMARY KEY (kind, account_id, region)
);
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, account_id TEXT NOT NULL, region TEXT NOT NULL,
    tbl TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (kind, account_id, region, tbl, key)
);
"""


class TrackedTable(dict[str, Any]):
    """A record table that notes every key a rule looked up, stored or removed."""

    __slots__ = ("_dirty", "_where")

    def __init__(self, records: dict[str, Any], dirty: set[Any], where: tuple[Scope, str]) -> None:
        super().__init__(records)
        self._dirty = dirty
        self._where = where

    def _mark(self, key: Any) -> None:
        self._dirty.add((self._where, key))

    def __getitem__(self, key: str) -> Any:
        self._mark(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._mark(key)
        return super().get(key, default)

    def __setitem__(self, key: str, value: Any) -> None:
        self._mark(key)
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self._mark(key)
        super().__delitem__(key)

    def pop(self, key: str, *default: Any) -> Any:
        self._mark(key)
        return super().pop(key, *default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self._mark(key)
        return super().setdefault(key, default)

    def update(self, *others: Any, **more: Any) -> None:
        for key, value in dict(*others, **more).items():
            self[key] = value

    def popitem(self) -> tuple[str, Any]:
        key, value = super().popitem()
        self._mark(key)
        return key, value

    def clear(self) -> None:
        for key in list(self):
            self._mark(key)
        super().clear()


class StoredBackend(EmulatorBackend):
    """An emulator backend mirrored, request by request, in an SQLite database."""

    def __init__(self, connection: sqlite3.Connection, path: Path, **options: Any) -> None:
        super().__init__(**options)
        self.connection = connection
        self.path = path
        self._dirty: set[tuple[tuple[Scope, str], str]] = set()
        self._scopes: dict[Scope, IdentityBackend | AccountsBackend] = {}
        self._cleared = False

    # -- tracking ------------------------------------------------------------------

    def identity(self, account_id: str, region: str) -> IdentityBackend:
        return self._tracked(("identity", account_id, region), super().identity(account_id, region))

    def accounts(self, account_id: str, region: str) -> AccountsBackend:
        return self._tracked(("accounts", account_id, region), super().accounts(account_id, region))

    def _tracked(self, scope: Scope, backend: Any) -> Any:
        if self._scopes.get(scope) is not backend:
            self._scopes[scope] = backend
            self._track_tables(scope, backend)
        return backend

    def _track_tables(self, scope: Scope, backend: Any) -> None:
        """(Re)wraps every table of ``backend``; marks the scope for a counter write."""
        for table in record_tables(type(backend)):
            records = getattr(backend, table)
            if not isinstance(records, TrackedTable):
                setattr(backend, table, TrackedTable(records, self._dirty, (scope, table)))
        self._dirty.add(((scope, ""), ""))

    def restore(self, snapshot: dict[str, Any]) -> None:
        """A whole snapshot (``--import``): replaces the store's content at the next commit."""
        with self.lock:
            super().restore(snapshot)
            self._dirty.clear()
            self._cleared = True
            for scope, backend in self._scopes.items():
                self._track_tables(scope, backend)  # restore() put plain dicts back
                for table in record_tables(type(backend)):
                    self._dirty.update(((scope, table), key) for key in getattr(backend, table))

    def reset(self) -> None:
        with self.lock:
            super().reset()
            self._scopes.clear()
            self._dirty.clear()
            self._cleared = True

    # -- writing -----------------------------------------------------------------------

    def commit(self, *, wrote: bool = True) -> None:
        """Writes what the last requests touched, in one transaction (call under the lock).

        After a read (``wrote=False``) the records it looked up are forgotten instead.
        On failure nothing is forgotten: the next commit writes it again."""
        with self.lock:
            if not wrote and not self._cleared:
                # a read keeps only what is gone: users an expiration sweep deleted
                deleted = {mark for mark in self._dirty if self._is_gone(*mark)}
                self._dirty.clear()  # in place: the tables hold this same set
                self._dirty.update(deleted)
            if not self._dirty and not self._cleared:
                return
            rows, gone, counters = self._changes()
            connection = self.connection
            connection.execute("BEGIN IMMEDIATE")
            try:
                if self._cleared:
                    connection.execute("DELETE FROM records")
                    connection.execute("DELETE FROM scopes")
                connection.executemany(
                    "DELETE FROM records WHERE kind=? AND account_id=? AND region=? "
                    "AND tbl=? AND key=?",
                    gone,
                )
                connection.executemany(
                    "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE "
                    "SET body=excluded.body",
                    rows,
                )
                connection.executemany(
                    "INSERT INTO scopes VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE "
                    "SET next_seq=excluded.next_seq",
                    counters,
                )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            self._dirty.clear()
            self._cleared = False

    def _is_gone(self, where: tuple[Scope, str], key: str) -> bool:
        scope, table = where
        backend = self._scopes.get(scope)
        return bool(table) and (backend is None or key not in getattr(backend, table))

    def _changes(
        self,
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        rows, gone, counters = [], [], []
        for scope in {scope for (scope, _), _ in self._dirty}:  # each scope's sequence counter
            backend = self._scopes.get(scope)
            if backend is not None:
                counters.append((*scope, backend.next_seq))
        for (scope, table), key in self._dirty:
            backend = self._scopes.get(scope)
            if not table:  # the scope's own mark: its counter is written above
                continue
            records = getattr(backend, table) if backend is not None else {}
            record = dict.get(records, key)  # not records.get: that would mark it again
            if record is None:
                gone.append((*scope, table, key))
            else:
                body = json.dumps(dataclasses.asdict(record), separators=(",", ":"))
                rows.append((*scope, table, key, body))
        return rows, gone, counters

    def load_rows(self, meta: dict[str, str]) -> None:
        """Rebuilds the state from the rows: a snapshot per scope, restored by models.py."""
        scopes: dict[Scope, dict[str, Any]] = {}
        for kind, account_id, region, next_seq in self.connection.execute("SELECT * FROM scopes"):
            if kind not in ("identity", "accounts"):
                raise ValueError(f"unknown scope kind {kind!r}")
            scopes[(kind, account_id, region)] = {"next_seq": int(next_seq)}
        for kind, account_id, region, table, _key, body in self.connection.execute(
            "SELECT * FROM records"
        ):
            state = scopes.get((kind, account_id, region))
            if state is None:
                raise ValueError(f"a record of {kind} {account_id}/{region} has no scope row")
            record = json.loads(body)
            if nesting_depth(record) > MAX_STATE_DEPTH:
                raise ValueError(f"a record nests deeper than {MAX_STATE_DEPTH} levels")
            state.setdefault(table, []).append(record)
        snapshot: dict[str, Any] = {
            "format": SNAPSHOT_FORMAT,
            "page_secret": meta["page_secret"],
            "identity": [],
            "accounts": [],
        }
        for (kind, account_id, region), state in scopes.items():
            for table in record_tables(IdentityBackend if kind == "identity" else AccountsBackend):
                # creation order: pagination walks the tables in it
                state[table] = sorted(state.get(table, []), key=lambda r: r.get("seq", 0))
            snapshot[kind].append({"account_id": account_id, "region": region, "state": state})
        self.restore(snapshot)
        check_records(self, snapshot)
        self._cleared = False
        self._dirty.clear()

    def close(self) -> None:
        with self.lock:
            self.connection.close()


# --------------------------------------------------------------------------
# Opening (and refusing) a store


def open_store(path: Path, **options: Any) -> StoredBackend:
    """The backend kept in the SQLite database at ``path`` (created if absent).

    Raises StateFileError, in one sentence, when the path cannot be created,
    read or written, or holds something that is not a sound store; the file is
    then left as it was."""
    if path.exists() and path.is_file() and _looks_like_json(path):
        raise StateFileError(
            f"state file {path} is a JSON snapshot, not a chime-emulator store; "
            f"start with --import {path} and a new --state-file to convert it"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # a short timeout: a store held by another emulator is refused at once
        connection = sqlite3.connect(
            path, timeout=0.5, isolation_level=None, check_same_thread=False
        )
    except (OSError, sqlite3.Error) as error:
        raise _refused(path, "cannot be opened", error) from None
    try:
        backend = _load(connection, path, options)
    except StateFileError:
        connection.close()
        raise
    except (sqlite3.Error, OSError) as error:
        connection.close()
        raise _refused(path, "cannot be read and written", error) from None
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
        connection.close()
        raise _refused(path, "is not a sound chime-emulator store", error) from None
    return backend


def _load(connection: sqlite3.Connection, path: Path, options: dict[str, Any]) -> StoredBackend:
    mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StateFileError(f"state file {path} cannot use SQLite's WAL mode (got {mode!r})")
    connection.execute("PRAGMA synchronous=FULL")
    # held from the first write to close: a second emulator on the same store (two
    # memories, one file) is refused at start instead of silently diverging
    connection.execute("PRAGMA locking_mode=EXCLUSIVE")
    backend = StoredBackend(connection, path, **options)
    # one transaction that writes: proves at start, not at the first 2xx, that the
    # store can be written; rolled back (nothing changed) if the store is refused
    connection.execute("BEGIN IMMEDIATE")
    try:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                connection.execute(statement)
        meta = dict(connection.execute("SELECT name, value FROM meta").fetchall())
        if not meta:
            meta = {"format": STORE_FORMAT, "page_secret": backend.page_tokens.secret.hex()}
            connection.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        elif meta.get("format") != STORE_FORMAT:
            raise ValueError(f"unknown store format {meta.get('format')!r}")
        else:
            connection.execute("UPDATE meta SET value = value WHERE name = 'format'")
        backend.load_rows(meta)
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return backend


def _looks_like_json(path: Path) -> bool:
    try:
        with path.open("rb") as stream:
            return stream.read(64).lstrip()[:1] in (b"{", b"[")
    except OSError:
        return False


def _refused(path: Path, what: str, error: BaseException) -> StateFileError:
    return StateFileError(
        f"state file {path} {what} ({type(error).__name__}: {one_line(error)}); "
        "fix or remove it, it was not modified"
    )
