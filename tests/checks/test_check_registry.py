"""One registry of checks: every name a record, a column of the page or a
fault's expectation can carry is declared once in chime_conformance.checks,
with a contract rule id and a one-line description; the one recorder refuses
any other name. Proven by importing the places names come from, not by
reading their source."""

from __future__ import annotations

import datetime
import importlib
import pkgutil

import pytest

from chime_conformance import checks
from chime_conformance.checks import REGISTRY, RULE_IDS, UnknownCheck, declare
from chime_conformance.reporting.results_document import build_results_document
from chime_conformance.reporting.run_info import RunInfo
from chime_conformance.run.coverage import ConstraintCoverage
from chime_conformance.run.recorder import Recorder, Verifier
from chime_conformance.run.results import FAIL, PASS, ResultLog
from chime_conformance.wire.exchange import Exchange, ReceivedResponse, SentRequest
from tests.support.fault_catalogue import CATALOGUE


def an_exchange() -> Exchange:
    return Exchange(
        request=SentRequest("GET", "http://127.0.0.1:1/app-instances", {}, None),
        response=ReceivedResponse(200, {"Content-Type": "application/json"}, b"{}"),
        elapsed=0.01,
        operation="ListAppInstances",
        members={},
    )


def test_every_declaration_names_a_contract_rule_and_says_what_it_checks() -> None:
    assert len(REGISTRY) >= 30
    for name, declared in REGISTRY.items():
        assert declared.name == name
        assert declared.rule.split(".")[0] in RULE_IDS, name
        assert declared.description and "\n" not in declared.description, name


def test_every_oracle_is_declared() -> None:
    assert set(checks.CHECKS) <= set(REGISTRY)
    assert {n for n, d in REGISTRY.items() if d.kind == checks.ORACLE} == set(checks.CHECKS)


def test_every_schemathesis_check_the_harness_runs_is_declared() -> None:
    from conformance import _schemathesis_harness as harness

    names = {check.__name__ for check in harness.STATEFUL_CHECKS}
    assert names <= set(REGISTRY), names - set(REGISTRY)
    assert set(harness.DECLARED) == names


def test_the_differential_check_is_declared() -> None:
    from chime_conformance.run import differential

    assert REGISTRY[differential.CHECK_NAME].rule == "reference-agreement"


def test_every_fault_expectation_names_a_declared_check() -> None:
    expected = {name for catch in CATALOGUE.values() for name in catch.caught_by}
    assert expected and expected <= set(REGISTRY), expected - set(REGISTRY)
    proofs = {c.machine.check for c in CATALOGUE.values() if c.machine is not None}
    assert proofs and proofs <= set(REGISTRY), proofs - set(REGISTRY)


def test_the_scenarios_and_machines_refer_to_declared_checks_only() -> None:
    # importing them resolves every checks.<NAME> they use; a typo is an AttributeError
    import conformance.machines.accounts
    import conformance.machines.app_instances
    import conformance.machines.members
    import conformance.scenario  # noqa: F401

    declared = [v for v in vars(checks).values() if isinstance(v, checks.DeclaredCheck)]
    assert {d.name for d in declared} == {d.name for d in REGISTRY.values() if d.kind != "oracle"}


def test_the_recorder_refuses_a_name_nobody_declared() -> None:
    recorder = Recorder(ResultLog())
    with pytest.raises(UnknownCheck, match="read_after_wrte"):
        recorder.record("read_after_wrte", PASS, test_id="t", operation="ListAppInstances")
    with pytest.raises(UnknownCheck):
        Verifier(ResultLog(), "t").passed(an_exchange(), check="tags_readback")  # type: ignore[arg-type]


def test_a_failure_record_keeps_the_exchange_and_its_reproducers() -> None:
    results = ResultLog()
    failure = checks.CheckFailure(
        operation="ListAppInstances", spec_fact="fact", received="r", documented="d"
    )
    with pytest.raises(AssertionError) as caught:
        Verifier(results, "t").fail(an_exchange(), failure, check=checks.PAGINATION)
    (record,) = [r for r in results.records() if r.outcome == FAIL]
    assert record.check == "pagination" and record.spec_fact == "fact"
    assert record.response == {
        "status": 200,
        "headers": {"Content-Type": "application/json"},
        "body": "{}",
    }
    assert record.reproducer_curl and record.reproducer_python
    assert caught.value.failures == (failure,)  # type: ignore[attr-defined]


def test_every_column_of_the_page_is_declared_and_carries_its_rule() -> None:
    results = ResultLog()
    recorder = Recorder(results)
    for declared in REGISTRY.values():
        recorder.record(declared, PASS, test_id="t", operation="ListAppInstances")
    now = datetime.datetime.now(datetime.UTC)
    document = build_results_document(
        RunInfo(target_url="x", run_id="r", started=now, finished=now),
        list(results.records()),
        ConstraintCoverage(),
    )
    assert set(document["checks"]) == set(REGISTRY)
    for name in document["checks"]:
        assert document["check_declarations"][name]["rule"] == REGISTRY[name].rule


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"name": "pagination", "rule": "pagination", "description": "x"}, "already declared"),
        ({"name": "new_check", "rule": "no-such-rule", "description": "x"}, "not a contract rule"),
        ({"name": "new_check", "rule": "tags", "description": "a\nb"}, "one non-empty line"),
        ({"name": "new_check", "rule": "tags", "description": "x", "kind": "?"}, "kind"),
    ],
)
def test_a_bad_declaration_is_refused_at_once(arguments: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        declare(**arguments)
    assert "new_check" not in REGISTRY


def test_an_oracle_names_its_rule_and_its_docstring_describes_it() -> None:
    def an_oracle_for_this_test(ctx: object, exchange: object, exp: object) -> bool:
        """Checks nothing at all.

        Only the first paragraph is the description."""
        return False

    try:
        checks.check(rule="tags.limit")(an_oracle_for_this_test)  # type: ignore[arg-type]
        declared = REGISTRY["an_oracle_for_this_test"]
        assert (declared.rule, declared.description) == ("tags.limit", "Checks nothing at all.")
        assert declared.kind == checks.ORACLE
    finally:
        REGISTRY.pop("an_oracle_for_this_test", None)
        checks.CHECKS.pop("an_oracle_for_this_test", None)


def test_an_oracle_without_a_rule_is_refused_naming_it() -> None:
    def an_oracle_without_a_rule(ctx: object, exchange: object, exp: object) -> bool:
        """Checks nothing at all.

        Rule: tags"""
        return False

    with pytest.raises(TypeError, match=r"an_oracle_without_a_rule: .*@check\(rule="):
        checks.check(an_oracle_without_a_rule)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="@check"):
        checks.check()
    assert "an_oracle_without_a_rule" not in REGISTRY
    assert "an_oracle_without_a_rule" not in checks.CHECKS


def test_the_checks_of_one_contract_rule_live_in_one_family_module() -> None:
    """Where a new check goes is not a choice: beside the checks of its rule.
    Every declared check is defined in exactly one family module of
    chime_conformance.checks, and no contract rule is split over two."""
    families = [
        importlib.import_module(f"chime_conformance.checks.{info.name}")
        for info in pkgutil.iter_modules(checks.__path__)
        if info.name not in ("registry", "answers")
    ]
    home: dict[str, str] = {}  # check name -> the family module defining it
    for family in families:
        oracles = [n for n, f in checks.CHECKS.items() if f.__module__ == family.__name__]
        declarations = [
            v.name
            for v in vars(family).values()
            if isinstance(v, checks.DeclaredCheck) and v.kind != checks.ORACLE
        ]
        for name in oracles + declarations:
            assert name not in home, f"{name} is defined in {home.get(name)} and {family.__name__}"
            home[name] = family.__name__
    assert set(home) == set(REGISTRY), set(REGISTRY) ^ set(home)
    family_of_rule: dict[str, str] = {}
    for name, family_name in sorted(home.items()):
        rule = REGISTRY[name].rule.split(".")[0]
        assert family_of_rule.setdefault(rule, family_name) == family_name, (
            f"{name} (rule {rule}) is in {family_name}; the checks of {rule} are in "
            f"{family_of_rule[rule]}"
        )
