"""A pytest plugin for tests/adapter/test_sharding.py: writes the id of every test
collected, before ``--shard`` splits them, to ``$CHIME_SHARD_PROBE.all``, and of
those that stayed in this shard to ``$CHIME_SHARD_PROBE``, one per line (and
pytest's own node ids of the whole collection to ``$CHIME_SHARD_PROBE.nodeids``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chime_conformance.run.sharding import test_id_of


def _write(suffix: str, items: list[pytest.Item]) -> None:
    ids = [test_id_of(item.nodeid, item.location[2]) for item in items]
    Path(os.environ["CHIME_SHARD_PROBE"] + suffix).write_text("\n".join(ids) + "\n", "utf-8")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    _write(".all", items)
    raw = "\n".join(item.nodeid for item in items) + "\n"
    Path(os.environ["CHIME_SHARD_PROBE"] + ".nodeids").write_text(raw, "utf-8")


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    _write("", session.items)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    from hypothesis import settings

    Path(os.environ["CHIME_SHARD_PROBE"] + ".examples").write_text(
        str(settings.default.max_examples), "utf-8"
    )
