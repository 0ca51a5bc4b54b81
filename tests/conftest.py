"""The project's own tests: the suite's Hypothesis profiles, under their plain
names ``ci``, ``default`` and ``nightly`` too (the installed plugin registers
only ``chime-*`` names, and only when the suite itself runs); and the deep
tests, which run only when asked for.

A test marked ``deep`` is an end-to-end run that costs tens of seconds of CPU
on its own: the whole suite where CI's tests run slices of it (against moto,
against an endpoint missing operations), more seeds of a run CI makes with
one, the longer variants of a behaviour a quicker test of the same file
proves. CI has five minutes on two cores for everything. ``pytest tests -n
auto`` (the README's command, what CI runs) skips them, each with the reason;
``pytest tests -n auto --deep`` (``tox -e deep``, the nightly workflow's
``deep-tests`` job) runs them too.
"""

import os

import pytest

from chime_conformance.pytest_plugin.profiles import register_hypothesis_profiles

DEEP_ENV = "CHIME_TESTS_DEEP"

register_hypothesis_profiles()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--deep",
        action="store_true",
        default=os.environ.get(DEEP_ENV) == "1",
        help=f"also run the tests marked deep (or {DEEP_ENV}=1): longer versions of "
        "what the quick tests prove, run nightly",
    )


def deep(config: pytest.Config) -> bool:
    """Whether this session runs the tests marked ``deep``."""
    return bool(config.getoption("--deep", default=False))


def pytest_configure(config: pytest.Config) -> None:
    """Under xdist (``-n``), each test file runs on one worker (``--dist
    loadfile``): the mutation matrix runs its slices from one module-scoped
    fixture, which ``--dist load`` (what ``-n`` means alone) would have every
    worker run in full, and other files' module fixtures (emulators, shard
    runs) would be set up once per worker. (xdist keys this by node id, which
    must be unique: pyproject's pytest pin, tests/adapter/test_sharding.py.)"""
    if getattr(config.option, "numprocesses", None) and config.option.dist in ("no", "load"):
        config.option.dist = "loadfile"
        # xdist would otherwise hand out the files with the most tests first,
        # not the longest first (pytest_collection_modifyitems below)
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
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
    if not deep(config):
        skip = pytest.mark.skip(reason="deep test: run with --deep (tox -e deep, nightly)")
        for item in items:
            if item.get_closest_marker("deep") is not None:
                item.add_marker(skip)
