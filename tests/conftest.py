"""The project's own tests: the suite's Hypothesis profiles, under their plain
names ``ci``, ``default`` and ``nightly`` too (the installed plugin registers
only ``chime-*`` names, and only when the suite itself runs)."""

import pytest

from chime_conformance.pytest_plugin.profiles import register_hypothesis_profiles

register_hypothesis_profiles()


def pytest_configure(config: pytest.Config) -> None:
    """Under xdist (``-n``), each test file runs on one worker (``--dist
    loadfile``): the mutation matrix runs its slices from one module-scoped
    fixture, which ``--dist load`` (what ``-n`` means alone) would have every
    worker run in full, and other files' module fixtures (emulators, shard
    runs) would be set up once per worker. (xdist keys this by node id, which
    must be unique: pyproject's pytest pin, tests/adapter/test_sharding.py.)"""
    if getattr(config.option, "numprocesses", None) and config.option.dist in ("no", "load"):
        config.option.dist = "loadfile"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest work first (the mutation matrix, then the files with tests
    marked slow), so a second worker fills in around it instead of waiting at
    the end. Each file's tests stay together and in order: module-scoped
    fixtures are set up once."""

    def weight(item: pytest.Item) -> int:
        if item.path.name == "test_mutation.py":
            return 0
        return 1 if item.get_closest_marker("slow") is not None else 2

    files: dict[str, int] = {}
    for item in items:
        files[item.path.name] = min(files.get(item.path.name, 2), weight(item))
    items.sort(key=lambda item: files[item.path.name])  # stable: each file's own order
