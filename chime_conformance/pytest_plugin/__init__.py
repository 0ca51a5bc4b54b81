"""The pytest adapter: the only layer that knows pytest (and xdist).

- ``plugin``: the pytest11 entry point; every hook, each once, calling into
  the run layer (:mod:`chime_conformance.run`)
- ``options``: the options, and the one place they and the environment are read
- ``fixtures``: the session fixtures (settings, target, client, ledger, results)
- ``session``: one process's share of a run (``SuiteRun``), handed from xdist
  workers to the controller as one report
- ``collection``: which tests run, in what order (``--operations``, ``--shard``)
- ``outcomes``: each test's operation, cause and outcome, from pytest's reports
- ``guard``: how a run ends (throttled tests, a dead target, Ctrl-C)
- ``profiles``: the suite's Hypothesis profiles
- ``terminal``: the suite's part of the terminal summary
- ``_library_internals``: every use of a private Hypothesis or schemathesis
  API (the suite's ``conformance/`` imports it too), checked against the
  versions pyproject.toml allows
"""
