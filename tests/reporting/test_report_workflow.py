"""The nightly workflow: valid for GitHub, and doing what the nightly needs.

``workflow.schema.json`` is SchemaStore's ``github-workflow.json`` (Apache-2.0),
as vendored by check-jsonschema 0.39.0.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from chime_conformance.reporting.cli import main
from chime_conformance.run.example_db import DEFAULT_ARTIFACT

ROOT = Path(__file__).parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "nightly.yml"
WORKFLOW_SCHEMA = Path(__file__).with_name("workflow.schema.json")
SUITE_COMMAND = (
    "pytest conformance --target-url http://127.0.0.1:8080 --hypothesis-profile nightly -n 2"
    " --shard ${{ matrix.shard }}/${{ env.SHARDS }}"
)
MERGE_COMMAND = "chime-conformance-report merge shards/*/results.json --out reports"
DIFF_COMMAND = "chime-conformance-report diff previous/results.json reports/results.json"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    document = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    if True in document:  # YAML 1.1 reads the key `on` as a boolean
        document["on"] = document.pop(True)
    return dict(document)


@pytest.fixture(scope="module")
def steps(workflow) -> list[dict[str, Any]]:
    """The steps of one shard's job."""
    return list(workflow["jobs"]["shard"]["steps"])


@pytest.fixture(scope="module")
def merge_steps(workflow) -> list[dict[str, Any]]:
    return list(workflow["jobs"]["merge"]["steps"])


def step_running(steps: list[dict[str, Any]], text: str) -> tuple[int, dict[str, Any]]:
    for index, step in enumerate(steps):
        if text in " ".join(str(step.get("run", "")).split()):
            return index, step
    raise AssertionError(f"no step runs {text!r}")


def step_using(
    steps: list[dict[str, Any]], action: str, **with_: str
) -> tuple[int, dict[str, Any]]:
    for index, step in enumerate(steps):
        if str(step.get("uses", "")).startswith(action + "@") and all(
            str(step.get("with", {}).get(k)) == v for k, v in with_.items()
        ):
            return index, step
    raise AssertionError(f"no step uses {action} with {with_}")


def test_the_workflow_matches_githubs_workflow_schema(workflow) -> None:
    schema = json.loads(WORKFLOW_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(workflow)


def test_it_runs_every_night_and_on_demand(workflow) -> None:
    assert workflow["on"]["schedule"][0]["cron"]
    assert "workflow_dispatch" in workflow["on"]


def test_the_shards_are_a_job_matrix_of_the_declared_size(workflow) -> None:
    job = workflow["jobs"]["shard"]
    shards = job["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, int(workflow["env"]["SHARDS"]) + 1))
    assert job["strategy"]["fail-fast"] is False  # one shard's failure keeps the others


def test_it_installs_the_project_then_starts_the_emulator(steps) -> None:
    install, _ = step_running(steps, "python -m pip install .")
    start, step = step_running(steps, "chime-emulator > emulator.log")
    assert install < start
    assert re.search(r"#.*another emulator", step["run"])  # where to plug another one


def test_the_wait_for_the_emulator_is_valid_python(steps) -> None:
    _, step = step_running(steps, "chime-emulator")
    script = step["run"].split("<<'PY'\n", 1)[1].split("\nPY", 1)[0]
    compile(script, "wait-for-emulator", "exec")


def test_each_shard_runs_its_part_of_the_suite_after_the_emulator_started(steps) -> None:
    start, _ = step_running(steps, "chime-emulator")
    suite, step = step_running(steps, SUITE_COMMAND)
    assert start < suite
    assert step["continue-on-error"] is True  # the merge job's regression step decides
    # the examples nightly found before are replayed, read-only, and new ones saved
    assert step["env"]["CHIME_CONFORMANCE_EXAMPLES_REPO"] == "${{ github.repository }}"
    assert step["env"]["GITHUB_TOKEN"] == "${{ github.token }}"
    assert step["env"]["CHIME_CONFORMANCE_EXAMPLES_DIR"] == "examples"


def test_each_shard_uploads_its_reports_and_examples_whatever_the_outcome(steps) -> None:
    suite, _ = step_running(steps, SUITE_COMMAND)
    upload, step = step_using(steps, "actions/upload-artifact", name="shard-${{ matrix.shard }}")
    assert suite < upload and step["if"] == "always()"
    assert step["with"]["path"].split()[0] == "reports/"
    upload, step = step_using(
        steps, "actions/upload-artifact", name="examples-shard-${{ matrix.shard }}"
    )
    assert suite < upload and step["with"]["path"] == "examples/"


def test_one_job_merges_the_shards_diffs_and_publishes(workflow, merge_steps) -> None:
    assert workflow["jobs"]["merge"]["needs"] == ["shard", "with-faults"]
    download, _ = step_using(merge_steps, "actions/download-artifact", pattern="shard-*")
    merge, _ = step_running(merge_steps, MERGE_COMMAND)
    history, _ = step_running(merge_steps, "chime-conformance-report history history/*.json")
    pages, _ = step_using(merge_steps, "actions/upload-pages-artifact", path="reports/")
    compare, diff = step_running(merge_steps, DIFF_COMMAND)
    assert download < merge < history < pages < compare
    assert "exit $status" in diff["run"]  # the diff's exit status is the job's
    publish = workflow["jobs"]["publish"]
    assert publish["needs"] == "merge" and publish["permissions"]["pages"] == "write"
    assert publish["steps"][-1]["uses"].startswith("actions/deploy-pages@")


def test_the_merged_examples_become_the_artifact_the_database_reads(workflow, merge_steps) -> None:
    download, step = step_using(
        merge_steps, "actions/download-artifact", pattern="examples-shard-*"
    )
    assert step["with"]["merge-multiple"] is True
    upload, step = step_using(
        merge_steps, "actions/upload-artifact", name="${{ env.EXAMPLES_ARTIFACT }}"
    )
    assert download < upload
    assert workflow["env"]["EXAMPLES_ARTIFACT"] == DEFAULT_ARTIFACT


def test_it_fetches_the_previous_report_and_fails_on_regressions(merge_steps, workflow) -> None:
    download, fetch = step_running(merge_steps, "gh run download")
    merge, _ = step_running(merge_steps, MERGE_COMMAND)
    compare, _ = step_running(merge_steps, DIFF_COMMAND)
    assert download < merge < compare
    assert '--name "$REPORT_ARTIFACT" --dir previous' in fetch["run"]
    # the last run that HAS results, not merely the last run
    assert "for run in $(gh run list" in fetch["run"] and "break" in fetch["run"]
    assert fetch["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert workflow["permissions"]["actions"] == "read"
    upload, step = step_using(
        merge_steps, "actions/upload-artifact", name="${{ env.REPORT_ARTIFACT }}"
    )
    assert merge < upload and step["if"] == "always()"


def test_the_commands_the_workflow_calls_exist(capsys) -> None:
    for command, metavar in (("diff", "OLD.json"), ("merge", "--out"), ("history", "--out")):
        assert main([command, "--help"]) == 0
        assert metavar in capsys.readouterr().out


def test_the_schema_catches_a_misspelt_step_key(workflow) -> None:
    schema = json.loads(WORKFLOW_SCHEMA.read_text(encoding="utf-8"))
    broken = json.loads(json.dumps(workflow))
    broken["jobs"]["shard"]["steps"][0]["usess"] = "actions/checkout@v4"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate(broken)


def test_no_previous_results_is_said_not_silently_passed(merge_steps) -> None:
    _, diff = step_running(merge_steps, DIFF_COMMAND)
    assert "::warning::" in diff["run"] and "GITHUB_STEP_SUMMARY" in diff["run"]
    assert "PREVIOUS_RUNS_WITHOUT_RESULTS" in diff["run"]


def test_the_reference_nightly_compares_the_emulator_with_and_without_faults(
    workflow, merge_steps
) -> None:
    job = workflow["jobs"]["with-faults"]
    _, start = step_running(job["steps"], "chime-emulator --allow-faults")
    assert "--fault" in start["run"] and workflow["env"]["FAULTS"].split()
    _, run = step_running(job["steps"], "chime-conformance run --target-url http://127.0.0.1:8080")
    assert '--target-name "emulator with faults"' in run["run"]
    _, compare = step_running(
        merge_steps,
        "chime-conformance-report compare reports/results.json with-faults/results.json",
    )
    pages, _ = step_using(merge_steps, "actions/upload-pages-artifact", path="reports/")
    assert merge_steps.index(compare) < pages


EXAMPLE = ROOT / "examples" / "nightly-any-endpoint.yml"


@pytest.fixture(scope="module")
def example() -> dict[str, Any]:
    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    if True in document:
        document["on"] = document.pop(True)
    return dict(document)


def test_the_copyable_workflow_matches_githubs_schema(example) -> None:
    schema = json.loads(WORKFLOW_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(example)


def test_the_copyable_workflow_needs_only_the_installed_package(example) -> None:
    """No checkout of this repository: the package installed, the user's
    endpoint started (a placeholder that fails until replaced), the shards run
    with chime-conformance run, merged, diffed with the last run that has
    results, published with the badge."""
    steps = example["jobs"]["shard"]["steps"]
    text = json.dumps(example)
    assert "pytest conformance" not in text and "pip install ." not in text
    install, _ = step_running(steps, 'python -m pip install "$CHIME_CONFORMANCE_PACKAGE"')
    start, placeholder = step_running(steps, "replace the 'Start your endpoint' step")
    assert "exit 1" in placeholder["run"]  # never a silent run against nothing
    run, shard = step_running(steps, 'chime-conformance run --target-url "$ENDPOINT_URL"')
    assert install < start < run
    assert "--shard ${{ matrix.shard }}/${{ env.SHARDS }}" in shard["run"]
    assert example["jobs"]["shard"]["strategy"]["matrix"]["shard"] == list(
        range(1, int(example["env"]["SHARDS"]) + 1)
    )
    merge = example["jobs"]["merge"]["steps"]
    _, fetch = step_running(merge, "gh run download")
    assert "for run in $(gh run list" in fetch["run"] and "break" in fetch["run"]
    merged, _ = step_running(merge, MERGE_COMMAND)
    diffed, diff = step_running(merge, DIFF_COMMAND)
    assert "::warning::" in diff["run"] and "exit $status" in diff["run"]
    pages, _ = step_using(merge, "actions/upload-pages-artifact", path="reports/")
    assert merged < pages < diffed
    assert example["env"]["CHIME_CONFORMANCE_EXAMPLES_ARTIFACT"] == DEFAULT_ARTIFACT
    assert example["jobs"]["publish"]["steps"][-1]["uses"].startswith("actions/deploy-pages@")


def test_the_wait_in_the_copyable_workflow_is_valid_python(example) -> None:
    _, step = step_running(example["jobs"]["shard"]["steps"], "import os, socket")
    script = step["run"].split("<<'PY'\n", 1)[1].split("\nPY", 1)[0]
    compile(script, "wait-for-endpoint", "exec")
