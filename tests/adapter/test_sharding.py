"""``--shard K/N`` and ``chime-conformance-report merge``, run as a user runs them.

The ``ci`` suite (a representative slice: parametrized request tests,
lifecycle tests, schemathesis' per-operation items, a state machine) is run
once whole and once as three shards; the merged shards must be the whole run:
same test ids, same cells, same coverage, same score. The split itself is
proven on the full collection. Three shards run concurrently against one
emulator must leave nothing behind and never delete each other's resources.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from chime_conformance.emulator.app import EmulatorConfig
from chime_conformance.emulator.iam import OTHER_TEST_IDENTITY
from chime_conformance.pytest_plugin.options import BY_NAME
from chime_conformance.pytest_plugin.profiles import NIGHTLY_EXAMPLES_PER_SHARD
from chime_conformance.reporting.cli import main as report_main
from chime_conformance.run import config as settings
from chime_conformance.run.config import ConfigurationError
from chime_conformance.run.sharding import Shard, bucket, ci_run_id, test_id_of
from chime_conformance.wire.client import ChimeClient
from tests.support import pytest_forkserver as forked
from tests.support.recording_emulator import RecordingEmulator

REPO = Path(__file__).resolve().parents[2]
SUITE = REPO / "conformance"
# bot operations through every kind of test, and the accounts state machine;
# schemathesis' items for GET and DELETE (its PUT, 4 s of coverage cases run
# twice, adds no kind of test)
SLICE = "(AppInstanceBot and not (test_identity_operation and PUT)) or test_accounts_keep"
SHARDS = 3
RUN_ID = "merge1"
PROBE = "tests.support.shard_probe"


def suite_command(*args: str) -> list[str]:
    return [
        sys.executable, "-m", "pytest", str(SUITE), "-p", "no:cacheprovider",
        "--hypothesis-profile", "ci", "-q", *args,
    ]  # fmt: skip


def run_suite(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The suite in a process of its own (forked: tests/support/pytest_forkserver.py)."""
    return forked.run(
        suite_command(*args),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )


def results(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "results.json").read_text(encoding="utf-8")))


# --------------------------------------------------------------------------
# The split


def test_shard_specs_are_read_and_bad_ones_refused_in_one_sentence() -> None:
    assert settings.shard("2/3") == Shard(2, 3)
    assert settings.shard(" 1 / 1 ") == Shard(1, 1)
    for bad in ("0/3", "4/3", "3", "a/b", "1/0", "-1/2"):
        with pytest.raises(ConfigurationError, match=r"must be K/N") as error:
            settings.shard(bad)
        assert "\n" not in str(error.value)


def test_the_run_id_is_given_checked_or_derived_from_the_ci_run() -> None:
    assert settings.run_id("nightly42") == "nightly42"
    with pytest.raises(ConfigurationError, match="letters or digits"):
        settings.run_id("has space")
    assert ci_run_id({}) is None
    ci = {"GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "77", "GITHUB_RUN_ATTEMPT": "1"}
    assert ci_run_id(ci) == ci_run_id(dict(ci))  # every job of the matrix
    assert ci_run_id({**ci, "GITHUB_RUN_ATTEMPT": "2"}) != ci_run_id(ci)
    shared = settings.build_config({"shard": Shard(2, 3)}, ci_run=ci)
    assert shared.run_id == ci_run_id(ci)
    given = settings.build_config({"shard": Shard(2, 3), "run_id": "n1"}, ci_run=ci)
    assert given.run_id == "n1"


def test_schemathesis_items_are_told_apart_by_their_operation() -> None:
    nodeid = "conformance/test_schemathesis.py::test_identity_operation"
    one = test_id_of(nodeid, "test_identity_operation[POST /app-instances]")
    assert one == nodeid + "[POST /app-instances]"
    plain = "conformance/test_requests.py::test_valid_requests[CreateAppInstance]"
    assert test_id_of(plain, "test_valid_requests[CreateAppInstance]") == plain


def test_the_hash_does_not_depend_on_where_the_suite_lives() -> None:
    local = "conformance/test_requests.py::test_x[A]"
    installed = "lib/python3.12/site-packages/conformance/test_requests.py::test_x[A]"
    assert all(bucket(local, n) == bucket(installed, n) for n in range(1, 9))
    # sha256: the same on every machine and Python; pinned so a change is noticed
    assert [bucket(local, n) for n in (2, 3, 5)] == [
        int.from_bytes(__import__("hashlib").sha256(local.encode()).digest()[:8], "big") % n
        for n in (2, 3, 5)
    ]


def test_an_unshared_run_id_or_a_bad_shard_is_a_usage_error() -> None:
    done = run_suite("--collect-only", "--shard", "2/3")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "--run-id" in done.stderr and "Traceback" not in done.stderr
    done = run_suite("--collect-only", "--shard", "5/3", "--run-id", "r1")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "argument --shard: must be K/N with K from 1 to N (e.g. 2/3), got '5/3'" in done.stderr
    done = run_suite("--collect-only", env={"CHIME_CONFORMANCE_SHARD": "x"})
    assert done.returncode == 4
    assert "--shard (from $CHIME_CONFORMANCE_SHARD) must be K/N (e.g. 2/3), got 'x'" in done.stderr


@pytest.mark.slow
def test_every_test_of_the_full_collection_is_in_exactly_one_shard(tmp_path: Path) -> None:
    """--collect-only of the whole suite as three shards (concurrently); the
    probe writes each shard's tests and, before the split, the whole collection."""
    outputs = {k: tmp_path / f"{k}.txt" for k in range(1, SHARDS + 1)}
    processes = [
        forked.popen(
            suite_command(
                "--collect-only", "-p", PROBE, "--shard", f"{k}/{SHARDS}", "--run-id", "split"
            ),
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "CHIME_SHARD_PROBE": str(output)},
        )
        for k, output in outputs.items()
    ]
    for process in processes:
        assert process.wait(timeout=600) == 0, process.stderr.read() if process.stderr else ""
    wholes = {Path(f"{o}.all").read_text() for o in outputs.values()}
    assert len(wholes) == 1  # three processes collected the same suite
    every = wholes.pop().splitlines()
    assert len(every) > 500 and len(set(every)) == len(every)  # ids are unique
    nodeids = Path(f"{outputs[1]}.nodeids").read_text().splitlines()
    shared = sorted({n for n in nodeids if nodeids.count(n) > 1})
    assert not shared, (
        f"{len(shared)} node ids name several tests ({shared[:3]}): xdist's --dist "
        "loadfile (tests/conftest.py) would run one of each; see pyproject's pytest pin"
    )
    shards = [output.read_text().splitlines() for output in outputs.values()]
    assert sorted(i for shard in shards for i in shard) == sorted(every)  # each once, none lost
    assert all(len(shard) > len(every) / SHARDS / 2 for shard in shards)  # roughly even
    print(f"full collection: {len(every)} tests, shards of {[len(s) for s in shards]}")


# --------------------------------------------------------------------------
# Merge: three shards are one run; shards sharing one target


@dataclass
class Runs:
    """The slice run whole, then as three shards run concurrently, all against
    one shared, recording emulator."""

    dirs: dict[str, Path]
    emulator: RecordingEmulator
    accounts_before: list[Any]

    def __getitem__(self, name: str) -> Path:
        return self.dirs[name]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    folder = tmp_path_factory.mktemp("shards")
    dirs = {"whole": folder / "whole"} | {str(k): folder / f"shard{k}" for k in (1, 2, 3)}
    # the embedded emulator's second account too: the tenant tests run, as they do there
    config = EmulatorConfig(host="127.0.0.1", port=0, identities=(OTHER_TEST_IDENTITY,))
    other = f"{OTHER_TEST_IDENTITY.access_key}:{OTHER_TEST_IDENTITY.secret_key}"
    with RecordingEmulator(SHARDS, config) as emulator, _environment(OTHER_IDENTITY_ENV, other):
        client = ChimeClient(emulator.url(1))
        before = client.call("ListAccounts", {}).json["Accounts"]
        # against the target the shards share: under the ci profile the accounts
        # machine took another path against an embedded emulator
        whole = ["--target-url", emulator.url(1), "--report-dir", str(dirs["whole"])]
        done = run_suite("-k", SLICE, *whole)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        processes = [
            forked.popen(
                suite_command(
                    "-k",
                    SLICE,
                    "--target-url",
                    emulator.url(k),
                    "--shard",
                    f"{k}/{SHARDS}",
                    "--run-id",
                    RUN_ID,
                    "--report-dir",
                    str(dirs[str(k)]),
                ),
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for k in range(1, SHARDS + 1)
        ]
        outputs = [p.communicate(timeout=600)[0] for p in processes]
        for process, output in zip(processes, outputs, strict=True):
            assert process.returncode == 0, output[-3000:]
            assert "left behind" not in output
        yield Runs(dirs, emulator, before)


OTHER_IDENTITY_ENV = BY_NAME["other_identity"].env


@contextlib.contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    """``name=value`` in this process's environment (the suites it starts inherit it)."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def merge(out: Path, *folders: Path) -> int:
    return report_main(["merge", *(str(f / "results.json") for f in folders), "--out", str(out)])


def verdicts(document: dict[str, Any]) -> dict[str, Any]:
    """What must not change whether a run was split or not."""
    return {
        "tests": document["run"]["tests"],
        "outcomes": document["run"]["pytest_outcomes"],
        "cells": {(c["operation"], c["check"]): c for c in document["matrix"]},
        "checks": document["checks"],
        "coverage": document["constraint_coverage"],
        "score": document["score"],
        "families": document["families"],
    }


def test_three_merged_shards_are_the_unsharded_run(runs: Runs, tmp_path: Path) -> None:
    shards = [runs[str(k)] for k in range(1, SHARDS + 1)]
    parts = [set(results(folder)["run"]["tests"]) for folder in shards]
    assert all(parts) and sum(map(len, parts)) == len(set().union(*parts))  # disjoint, none empty
    assert merge(tmp_path, *shards) == 0
    merged, whole = results(tmp_path), results(runs["whole"])
    assert verdicts(merged) == verdicts(whole)
    assert len(whole["run"]["tests"]) > 50 and whole["score"]["passing_cells"] > 100
    assert any("test_schemathesis" in test for test in whole["run"]["tests"])
    assert merged["run"]["shard"] == {"total": 3, "indices": [1, 2, 3]}
    assert merged["run"]["run_id"] == RUN_ID
    assert (tmp_path / "compliance.html").read_text().count('<td class="state') == sum(
        1 for _ in whole["matrix"]
    )
    junit = (tmp_path / "junit.xml").read_text()
    assert junit.count("<testcase ") == sum(whole["run"]["pytest_outcomes"].values())
    ran = sum(c["state"] in ("pass", "fail") for c in whole["matrix"])
    print(
        f"merged = whole: {len(whole['run']['tests'])} tests "
        f"(shards {[len(part) for part in parts]}), {len(whole['records'])} records, "
        f"{ran} cells with a verdict, score {whole['score']['passing_cells']}/{ran}, "
        f"coverage {whole['constraint_coverage']['covered']}/{whole['constraint_coverage']['total']}"
    )


def test_merging_is_associative(runs: Runs, tmp_path: Path) -> None:
    one, two, three = (runs[str(k)] for k in range(1, SHARDS + 1))
    assert merge(tmp_path / "12", one, two) == 0
    assert merge(tmp_path / "12-3", tmp_path / "12", three) == 0
    assert merge(tmp_path / "23", two, three) == 0
    assert merge(tmp_path / "1-23", one, tmp_path / "23") == 0
    assert merge(tmp_path / "123", one, two, three) == 0
    left, right, flat = (results(tmp_path / name) for name in ("12-3", "1-23", "123"))
    assert verdicts(left) == verdicts(right) == verdicts(flat)
    assert left["run"]["shard"] == right["run"]["shard"] == flat["run"]["shard"]
    assert left["run"]["target_url"] == right["run"]["target_url"] == flat["run"]["target_url"]


def test_a_duplicate_or_foreign_shard_is_refused_naming_it(
    runs: Runs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one, two = runs["1"], runs["2"]
    assert merge(tmp_path / "a", one, two, one) == 2
    message = capsys.readouterr().err
    assert f"{one / 'results.json'} is given twice" in message and message.count("\n") == 1
    copy = tmp_path / "copy"
    shutil.copytree(one, copy)
    assert merge(tmp_path / "b", one, copy) == 2
    message = capsys.readouterr().err
    assert "are the same shard (1)" in message and str(copy / "results.json") in message
    assert merge(tmp_path / "c", one, runs["whole"]) == 2  # another run
    message = capsys.readouterr().err
    assert "differ in run_id" in message and str(runs["whole"] / "results.json") in message
    assert not (tmp_path / "a").exists() and not (tmp_path / "c").exists()  # nothing written


def test_shards_of_another_split_or_sharing_a_test_are_refused(
    runs: Runs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one, two = runs["1"], runs["2"]
    other_split = tmp_path / "other-split"
    shutil.copytree(two, other_split)
    document = results(other_split)
    document["run"]["shard"] = {"total": 4, "indices": [2]}
    (other_split / "results.json").write_text(json.dumps(document), encoding="utf-8")
    assert merge(tmp_path / "a", one, other_split) == 2
    assert "different numbers of shards (3 and 4)" in capsys.readouterr().err
    sharing = tmp_path / "sharing"
    shutil.copytree(two, sharing)
    document = results(sharing)
    stolen = next(iter(results(one)["run"]["tests"]))
    document["run"]["tests"][stolen] = "passed"
    (sharing / "results.json").write_text(json.dumps(document), encoding="utf-8")
    assert merge(tmp_path / "b", one, sharing) == 2
    error = capsys.readouterr().err
    assert f"both ran 1 test(s), e.g. {stolen}" in error


IDS = re.compile(
    r'"(?:AppInstanceArn|AppInstanceUserArn|AppInstanceBotArn|AccountId|EndpointId)"\s*:\s*"([^"]+)"'
)


def test_concurrent_shards_leave_nothing_and_never_delete_each_others_resources(
    runs: Runs,
) -> None:
    emulator = runs.emulator
    client = ChimeClient(emulator.url(1))
    # nothing left: no AppInstance at all, the accounts the target had before
    assert client.call("ListAppInstances", {"MaxResults": 50}).json["AppInstances"] == []
    assert client.call("ListAccounts", {}).json["Accounts"] == runs.accounts_before
    # who created what: the first POST answer naming an id is its create
    creator: dict[str, int] = {}
    for shard, method, _, status, body in emulator.log:
        if method == "POST" and 200 <= status < 300:
            for found in IDS.findall(body.decode("utf-8", "replace")):
                creator.setdefault(found, shard)
    assert len(set(creator.values())) == SHARDS  # every shard created resources
    deletes = 0
    for shard, method, path, status, _ in emulator.log:
        if method == "DELETE" and 200 <= status < 300:
            named = [i for i in creator if i in unquote(path)]
            assert named, path
            assert {creator[i] for i in named} == {shard}, (shard, path)
            deletes += 1
    assert deletes > 20
    # the names each shard made carry its shard, and only its own
    made: dict[int, set[str]] = {k: set() for k in range(1, SHARDS + 1)}
    for shard, method, _, status, body in emulator.log:
        if method == "POST" and 200 <= status < 300:
            made[shard].update(re.findall(RUN_ID + r"-(s\d+)", body.decode("utf-8", "replace")))
    assert made == {k: {f"s{k}"} for k in range(1, SHARDS + 1)}


def test_the_nightly_budget_is_per_shard(tmp_path: Path) -> None:
    """N shards try N times as many examples per test: each shard takes as long."""
    tried = {}
    for shard in ([], ["--shard", "2/4", "--run-id", "budget"]):
        probe = tmp_path / f"probe{len(shard)}"
        command = suite_command("--collect-only", "-p", PROBE, *shard)
        command[command.index(str(SUITE))] = str(SUITE / "test_state_machines.py")
        command[command.index("ci")] = "nightly"
        done = forked.run(
            command, capture_output=True, text=True, timeout=300, cwd=REPO,
            env={**os.environ, "CHIME_SHARD_PROBE": str(probe)},
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        tried[len(shard)] = int(Path(f"{probe}.examples").read_text())
    assert tried == {0: NIGHTLY_EXAMPLES_PER_SHARD, 4: 4 * NIGHTLY_EXAMPLES_PER_SHARD}


@pytest.mark.deep  # an xdist run of a shard: workers, controller and shard agree
def test_a_shard_under_xdist_runs_the_same_tests(runs: Runs, tmp_path: Path) -> None:
    """The controller and its workers agree on the shard: -n 2 runs what -n 0 ran."""
    report = tmp_path / "xdist"
    shard = ["--shard", f"1/{SHARDS}", "--run-id", "xdist1", "-n", "2"]
    done = run_suite("-k", SLICE, "--report-dir", str(report), *shard)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert results(report)["run"]["tests"] == results(runs["1"])["run"]["tests"]
    assert "left behind" not in done.stdout
