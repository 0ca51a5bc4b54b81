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

No phantom state: the first mark of a record keeps a copy of it as it was (or
that it was absent). When a commit fails (a full disk, an I/O error) every
marked record is put back as it was, so no later request sees a change the
store does not hold; the request is answered 503 (``models.StoreUnwritable``)
and ``GET /_emulator/health`` says 503 until a write succeeds again. A failed
reset or import is undone by reading the state back from the store.

One emulator per store: besides SQLite's exclusive lock, ``PATH.lock`` is held
(``flock``) while the store is open and names the process holding it, so a
second emulator is refused with a sentence that says which process uses it. It
is removed at a clean stop; one left by a killed emulator names a process that
is gone and holds no lock, and the next start takes it over.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any, TextIO

try:  # POSIX; elsewhere SQLite's own lock is the only guard
    import fcntl
except ImportError:  # pragma: no cover (Windows)
    fcntl = None  # type: ignore[assignment]

from chime_conformance.contract.spec import nesting_depth
from chime_conformance.emulator.models import (
    SNAPSHOT_FORMAT,
    AccountsBackend,
    EmulatorBackend,
    IdentityBackend,
    StoreUnwritable,
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
Mark = tuple[tuple[Scope, str], str]  # ((scope, table), key); table "" marks the scope
ABSENT = object()  # a record that did not exist before the request
TABLES = {
    "meta": ["name", "value"],
    "scopes": ["kind", "account_id", "region", "next_seq"],
    "records": ["kind", "account_id", "region", "tbl", "key", "body"],
}

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
    """A record table that notes every key a rule looked up, stored or removed,
    with the record and a copy of its state at its first mark (``ABSENT`` if none)."""

    __slots__ = ("_touched", "_where")

    def __init__(
        self, records: dict[str, Any], touched: dict[Mark, Any], where: tuple[Scope, str]
    ) -> None:
        super().__init__(records)
        self._touched = touched
        self._where = where

    def _mark(self, key: Any) -> None:
        mark = (self._where, key)
        if mark not in self._touched:
            record = dict.get(self, key, ABSENT)
            self._touched[mark] = ABSENT if record is ABSENT else (record, copy.deepcopy(record))

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
        if self:
            self._mark(next(reversed(self)))
        return super().popitem()

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
        # every mark since the last commit, with the record as it was before it
        self._touched: dict[Mark, Any] = {}
        self._scopes: dict[Scope, IdentityBackend | AccountsBackend] = {}
        self._cleared = False
        self._store_error: str | None = None
        # each scope's sequence counter as the store holds it (put back by _undo)
        self._committed_seq: dict[Scope, int] = {}
        self.lock_file: TextIO | None = None  # PATH.lock, held while the store is open

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
                setattr(backend, table, TrackedTable(records, self._touched, (scope, table)))
        self._touched.setdefault(((scope, ""), ""), None)

    def restore(self, snapshot: dict[str, Any]) -> None:
        """A whole snapshot (``--import``): replaces the store's content at the next commit."""
        with self.lock:
            super().restore(snapshot)
            self._touched.clear()
            self._cleared = True
            for scope, backend in self._scopes.items():
                self._track_tables(scope, backend)  # restore() put plain dicts back
                for table in record_tables(type(backend)):
                    for key in getattr(backend, table):
                        self._touched[((scope, table), key)] = ABSENT

    def reset(self) -> None:
        with self.lock:
            super().reset()
            self._scopes.clear()
            self._touched.clear()
            self._cleared = True

    # -- writing -----------------------------------------------------------------------

    def commit(self, *, wrote: bool = True) -> None:
        """Writes what the last requests touched, in one transaction (call under the lock).

        After a read (``wrote=False``) the records it looked up are forgotten instead.
        When the store refuses, the touched records are put back as they were (no
        later request sees the change) and :class:`StoreUnwritable` is raised."""
        with self.lock:
            if not wrote and not self._cleared:
                # a read keeps only what is gone: users an expiration sweep deleted
                for mark in [mark for mark in self._touched if not self._is_gone(*mark)]:
                    del self._touched[mark]  # in place: the tables hold this same dict
            if not self._touched and not self._cleared:
                return
            try:
                self._write()
            except (sqlite3.Error, OSError) as error:
                self._store_error = f"{type(error).__name__}: {one_line(error)}"
                try:
                    self._undo()
                except (sqlite3.Error, OSError, ValueError) as unreadable:
                    self._store_error += f"; nor could it be read back ({one_line(unreadable)})"
                raise StoreUnwritable(
                    f"The emulator's store {self.path} refused the write ({self._store_error}); "
                    "nothing was changed: retry when it takes writes again."
                ) from None
            self._touched.clear()
            self._cleared = False
            self._store_error = None
            self._remember_counters()

    def _remember_counters(self) -> None:
        self._committed_seq = {scope: b.next_seq for scope, b in self._scopes.items()}

    def _write(self) -> None:
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
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    def _undo(self) -> None:
        """Puts every touched record back as it was before the failed commit's
        requests; a failed reset or import reads the state back from the store."""
        if self._cleared:
            self._reload()
            return
        reordered: set[int] = set()
        for ((scope, table), key), before in self._touched.items():
            backend = self._scopes.get(scope)
            if not table or backend is None:
                continue
            records = getattr(backend, table)
            if before is ABSENT:
                dict.pop(records, key, None)
                continue
            # the same object, its state put back: whatever holds it (a list's cached
            # order, pagination.py) sees it as it was
            record, state = before
            for item in dataclasses.fields(state):
                setattr(record, item.name, getattr(state, item.name))
            if dict.get(records, key) is not record:
                if key not in records:
                    reordered.add(id(records))
                dict.__setitem__(records, key, record)
        for backend in self._scopes.values():  # a record put back keeps its place in lists
            for table in record_tables(type(backend)):
                records = getattr(backend, table)
                if id(records) in reordered:
                    ordered = sorted(dict.items(records), key=lambda item: _seq_of(item[1]))
                    dict.clear(records)
                    dict.update(records, ordered)
        for scope, backend in self._scopes.items():
            backend.next_seq = self._committed_seq.get(scope, 0)
        self._touched.clear()

    def _reload(self) -> None:
        """The state as the store holds it (the expiration clock is kept)."""
        clock = self.expiration_clock
        kept = (clock.offset, dict(clock.scoped), clock.last_sweep)
        try:
            meta = dict(self.connection.execute("SELECT name, value FROM meta").fetchall())
            self.load_rows(meta)
        finally:
            clock.offset, clock.scoped, clock.last_sweep = kept

    def store_error(self) -> str | None:
        """Why the store refused the last commit, unless a write succeeds now (one that
        changes a row of ``meta``: an unchanged row may cost SQLite no write at all)."""
        with self.lock:
            if self._store_error is None:
                return None
            try:
                self.connection.execute("BEGIN IMMEDIATE")
                try:
                    self.connection.execute(
                        "INSERT INTO meta VALUES ('written_at', ?) ON CONFLICT DO UPDATE "
                        "SET value = excluded.value",
                        (repr(time.time()),),
                    )
                    self.connection.execute("COMMIT")
                except BaseException:
                    if self.connection.in_transaction:
                        self.connection.execute("ROLLBACK")
                    raise
            except (sqlite3.Error, OSError) as error:
                self._store_error = f"{type(error).__name__}: {one_line(error)}"
                return self._store_error
            self._store_error = None
            return None

    def _is_gone(self, where: tuple[Scope, str], key: str) -> bool:
        scope, table = where
        backend = self._scopes.get(scope)
        return bool(table) and (backend is None or key not in getattr(backend, table))

    def _changes(
        self,
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        rows, gone, counters = [], [], []
        for scope in {scope for (scope, _), _ in self._touched}:  # each scope's counter
            backend = self._scopes.get(scope)
            if backend is not None:
                counters.append((*scope, backend.next_seq))
        for (scope, table), key in self._touched:
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
        self._touched.clear()
        self._remember_counters()

    def close(self) -> None:
        with self.lock:
            self.connection.close()
            if self.lock_file is not None:
                # removed while still held, then released: a process that opens the path
                # from now on makes a new file and takes its lock at once
                Path(self.lock_file.name).unlink(missing_ok=True)
                self.lock_file.close()
                self.lock_file = None


def _seq_of(record: Any) -> int:
    seq = getattr(record, "seq", 0)
    return seq if isinstance(seq, int) else 0


# --------------------------------------------------------------------------
# Opening (and refusing) a store


def open_store(path: Path, **options: Any) -> StoredBackend:
    """The backend kept in the SQLite database at ``path`` (created if absent).

    Raises StateFileError, in one sentence, when the path cannot be created,
    read or written, is in use by another emulator, or holds something that is
    not a sound store; the file is then left as it was."""
    if path.exists() and path.is_file() and _looks_like_json(path):
        raise StateFileError(
            f"state file {path} is a JSON snapshot, not a chime-emulator store; "
            f"start with --import {path} and a new --state-file to convert it"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock_file = _hold_lock_file(path)
    except OSError as error:
        raise _refused(path, "cannot be opened", error) from None
    try:
        # a short timeout: a store held by another emulator is refused at once
        connection = sqlite3.connect(
            path, timeout=0.5, isolation_level=None, check_same_thread=False
        )
    except (OSError, sqlite3.Error) as error:
        _release(lock_file)
        raise _refused(path, "cannot be opened", error) from None
    try:
        backend = _load(connection, path, options)
    except StateFileError:
        connection.close()
        _release(lock_file)
        raise
    except (sqlite3.Error, OSError) as error:
        connection.close()
        _release(lock_file)
        if "locked" in str(error) or "busy" in str(error):
            raise _in_use(
                path,
                "another process (an emulator that keeps no lock file, or another SQLite client)",
            ) from None
        raise _refused(path, "cannot be read and written", error) from None
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
        connection.close()
        _release(lock_file)
        raise _refused(path, "is not a sound chime-emulator store", error) from None
    backend.lock_file = lock_file
    return backend


def _hold_lock_file(path: Path) -> TextIO | None:
    """``PATH.lock``, locked for this process and naming it; StateFileError if
    another process holds it (None where flock does not exist)."""
    if fcntl is None:  # pragma: no cover (Windows)
        return None
    lock_path = path.with_name(f"{path.name}.lock")
    lock_file = open(lock_path, "a+", encoding="utf-8")  # noqa: SIM115 (held until close)
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock_file.seek(0)
        owner = lock_file.read(200).strip() or "a process that has not yet named itself"
        lock_file.close()
        raise _in_use(path, owner) from None
    lock_file.seek(0)
    lock_file.truncate()
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    lock_file.write(f"chime-emulator pid {os.getpid()} on {socket.gethostname()}, since {started}")
    lock_file.flush()
    return lock_file


def _release(lock_file: TextIO | None) -> None:
    if lock_file is not None:
        lock_file.close()


def _in_use(path: Path, owner: str) -> StateFileError:
    return StateFileError(
        f"state file {path} is in use by {owner}; stop that one first, or give this "
        "emulator another --state-file"
    )


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
        _check_tables(connection)
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                connection.execute(statement)
        meta = dict(connection.execute("SELECT name, value FROM meta").fetchall())
        if not meta:
            meta = {"format": STORE_FORMAT, "page_secret": backend.page_tokens.secret.hex()}
            connection.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        elif meta.get("format") != STORE_FORMAT:
            raise StateFileError(
                f"state file {path} is in the format {str(meta.get('format'))[:80]!r}, and this "
                f"emulator reads {STORE_FORMAT!r}: open it with the chime-emulator that wrote "
                "it (it was not modified)"
            )
        else:
            connection.execute("UPDATE meta SET value = value WHERE name = 'format'")
        backend.load_rows(meta)
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return backend


def _check_tables(connection: sqlite3.Connection) -> None:
    """A new database gets the tables; an existing store must have all of them, with
    their columns; a database of something else is not taken over."""
    found = {
        name
        for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    if not found:
        return
    if "meta" not in found:
        raise ValueError(f"it is an SQLite database of something else (tables {sorted(found)})")
    for table, columns in TABLES.items():
        if table not in found:
            raise ValueError(f"its table {table!r} is missing")
        present = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
        if present != columns:
            raise ValueError(f"its table {table!r} has the columns {present}, not {columns}")


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
