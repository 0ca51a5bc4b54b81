"""A pytest plugin for tests/run/test_example_database.py: the suite's ``default``
profile (its example database included) without the shrink phase, as
``--hypothesis-profile replay``, so a failure is saved as found, in seconds.
Imported before Hypothesis' plugin loads the profile."""

from __future__ import annotations

from hypothesis import Phase, settings

from chime_conformance.pytest_plugin.profiles import register_hypothesis_profiles

register_hypothesis_profiles()
settings.register_profile(
    "replay",
    settings.get_profile("default"),
    max_examples=200,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
)
