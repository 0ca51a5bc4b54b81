"""The project's own tests: the suite's Hypothesis profiles, under their plain
names ``ci``, ``default`` and ``nightly`` too (the installed plugin registers
only ``chime-*`` names, and only when the suite itself runs)."""

from chime_conformance.plugin import register_hypothesis_profiles

register_hypothesis_profiles()
