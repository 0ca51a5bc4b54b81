"""The suite's Hypothesis profiles: ``ci``, ``default`` and ``nightly``.

They are registered under names of the suite's own (``chime-ci``…), so a
foreign project's ``default`` is never touched, and loaded only when the
suite runs, before Hypothesis' own plugin reads ``--hypothesis-profile``
(whose ``ci``, ``default`` or ``nightly`` then mean the suite's).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from chime_conformance.run.config import SuiteConfig

# about 30 minutes of a 2-core runner per shard (README "Nightly across machines")
NIGHTLY_EXAMPLES_PER_SHARD = 100
SUITE_PROFILES = {"ci": "chime-ci", "default": "chime-default", "nightly": "chime-nightly"}
_REGISTERED: list[bool] = []


def use_suite_profile(config: pytest.Config, suite: SuiteConfig) -> str:
    """Register the suite's profiles and load the one ``--hypothesis-profile``
    asks for (without its shrink phase with ``--no-shrink``); returns the name
    asked for, as the report shows it."""

    shards = suite.shard.total if suite.shard is not None else 1
    examples = {
        "examples_dir": suite.examples_dir,
        "examples_repo": suite.examples_repo,
        "examples_artifact": suite.examples_artifact,
    }
    register_suite_profiles(shards, examples)
    asked = config.getoption("hypothesis_profile", None) or "default"
    name = SUITE_PROFILES.get(asked, asked)
    if suite.no_shrink:
        name = register_no_shrink_profile(name)
    if hasattr(config.option, "hypothesis_profile"):
        config.option.hypothesis_profile = name
    from chime_conformance.pytest_plugin.usage import load_hypothesis_profile

    load_hypothesis_profile(name, asked=asked, known=SUITE_PROFILES)
    return str(asked)


def register_no_shrink_profile(name: str) -> str:
    """``name`` without the shrink phase (``--no-shrink``): the same examples in
    the same order, each failure reported with the example that first showed
    it. Returns the new profile's name."""
    from hypothesis import settings

    settings.register_profile(
        f"{name}-no-shrink", parent=without_shrinking(settings.get_profile(name))
    )
    return f"{name}-no-shrink"


def register_hypothesis_profiles(shards: int = 1) -> None:
    """The suite's profiles, and the same under the plain names ``ci``,
    ``default`` and ``nightly``: for this project's own tests (tests/conftest.py),
    never called by the plugin."""
    from hypothesis import settings

    from chime_conformance.pytest_plugin.options import example_sources

    register_suite_profiles(shards, example_sources())
    for plain, name in SUITE_PROFILES.items():
        settings.register_profile(plain, parent=settings.get_profile(name))


def register_suite_profiles(shards: int = 1, examples: Mapping[str, Any] | None = None) -> None:
    """``chime-ci`` (fast, derandomized), ``chime-default`` and ``chime-nightly`` (deep).

    ``chime-nightly``'s budget is per shard (``--shard K/N``: N shards try N
    times as many examples per test, each shard in about the same time).
    ``examples``: where failing examples are kept
    (:func:`chime_conformance.run.example_db.example_database`'s arguments)."""
    if _REGISTERED:
        return
    from hypothesis import HealthCheck, settings

    from chime_conformance.run.example_db import example_database

    # Tests talk to a server: examples are slow by nature, and the per-test
    # fixtures they use (a verifier) hold no per-example state.
    relaxed = [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ]
    common: dict[str, Any] = {"deadline": None, "suppress_health_check": relaxed}
    settings.register_profile(
        SUITE_PROFILES["ci"],
        max_examples=8,
        derandomize=True,
        database=None,
        print_blob=True,
        stateful_step_count=12,
        **common,
    )
    # ci keeps database=None: derandomized, the same examples on every machine
    # (chime_conformance.run.example_db says why); the others replay what failed before
    common["database"] = example_database(**(examples or {}))
    # randomized, whatever the parent: with CI set, Hypothesis' own default
    # profile derandomizes, and derandomize=True refuses any database
    common["derandomize"] = False
    settings.register_profile(
        SUITE_PROFILES["default"], max_examples=20, stateful_step_count=20, **common
    )
    settings.register_profile(
        SUITE_PROFILES["nightly"],
        max_examples=NIGHTLY_EXAMPLES_PER_SHARD * shards,
        stateful_step_count=50,
        **common,
    )
    _REGISTERED.append(True)


def without_shrinking(current: Any) -> Any:
    """``current`` Hypothesis settings without the shrink and explain phases."""
    from hypothesis import Phase, settings

    phases = tuple(p for p in current.phases if p not in (Phase.shrink, Phase.explain))
    return current if phases == tuple(current.phases) else settings(current, phases=phases)
