"""A failing Hypothesis test prints its arguments, the ``verifier`` fixture
among them: its repr must not carry the run's thousands of check records
(48 "Generating overly large repr" warnings in a run against a partial
endpoint, 684 kB growing to 1.4 MB each)."""

from __future__ import annotations

import warnings

from chime_conformance.pytest_plugin._library_internals import hypothesis_repr_call
from chime_conformance.run.recorder import Verifier
from chime_conformance.run.results import FAIL, PASS, CheckRecord, ResultLog


def a_big_log() -> ResultLog:
    log = ResultLog()
    for n in range(5000):
        log.record(
            CheckRecord(f"t::test[{n}]", "CreateAppInstance", "status_code_matches_spec", PASS)
        )
        log.record(
            CheckRecord(f"t::test[{n}]", "UpdateAccount", "status_code_matches_spec", FAIL,
                        message="Received: 501 " + "x" * 200)
        )  # fmt: skip
    return log


def test_a_verifier_and_its_log_print_short() -> None:
    verifier = Verifier(a_big_log(), "conformance/test_requests.py::test_x[UpdateAccount]")
    assert repr(verifier) == (
        "Verifier(test_id='conformance/test_requests.py::test_x[UpdateAccount]')"
    )
    assert repr(verifier.results) == "ResultLog(5000 passing, 5000 failing, 0 not applicable)"


def test_hypothesis_prints_a_test_taking_the_verifier_without_a_large_repr_warning() -> None:
    def test_x(verifier: Verifier, name: str) -> None: ...

    verifier = Verifier(a_big_log(), "t::test_x")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # HypothesisWarning "Generating overly large repr"
        text = hypothesis_repr_call(test_x, [], {"verifier": verifier, "name": "n"})
    assert len(text) < 200
