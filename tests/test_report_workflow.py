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

ROOT = Path(__file__).parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "nightly.yml"
WORKFLOW_SCHEMA = Path(__file__).with_name("workflow.schema.json")
SUITE_COMMAND = (
    "pytest conformance --target-url http://127.0.0.1:8642 --hypothesis-profile nightly -n 2"
)


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    document = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    if True in document:  # YAML 1.1 reads the key `on` as a boolean
        document["on"] = document.pop(True)
    return dict(document)


@pytest.fixture(scope="module")
def steps(workflow) -> list[dict[str, Any]]:
    return list(workflow["jobs"]["conformance"]["steps"])


def step_running(steps: list[dict[str, Any]], text: str) -> tuple[int, dict[str, Any]]:
    for index, step in enumerate(steps):
        if text in " ".join(str(step.get("run", "")).split()):
            return index, step
    raise AssertionError(f"no step runs {text!r}")


def step_using(steps: list[dict[str, Any]], action: str) -> tuple[int, dict[str, Any]]:
    for index, step in enumerate(steps):
        if str(step.get("uses", "")).startswith(action + "@"):
            return index, step
    raise AssertionError(f"no step uses {action}")


def test_the_workflow_matches_githubs_workflow_schema(workflow) -> None:
    schema = json.loads(WORKFLOW_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(workflow)


def test_it_runs_every_night_and_on_demand(workflow) -> None:
    assert workflow["on"]["schedule"][0]["cron"]
    assert "workflow_dispatch" in workflow["on"]


def test_it_installs_the_project_then_starts_the_emulator(steps) -> None:
    install, _ = step_running(steps, "python -m pip install .")
    start, step = step_running(steps, "chime-emulator --host 127.0.0.1 --port 8642 >")
    assert install < start
    assert re.search(r"#.*another emulator", step["run"])  # where to plug another one


def test_the_wait_for_the_emulator_is_valid_python(steps) -> None:
    _, step = step_running(steps, "chime-emulator")
    script = step["run"].split("<<'PY'\n", 1)[1].split("\nPY", 1)[0]
    compile(script, "wait-for-emulator", "exec")


def test_it_runs_the_suite_after_the_emulator_started(steps) -> None:
    start, _ = step_running(steps, "chime-emulator")
    suite, step = step_running(steps, SUITE_COMMAND)
    assert start < suite
    assert step["continue-on-error"] is True  # the regression step decides


def test_it_uploads_reports_whatever_the_outcome(steps, workflow) -> None:
    suite, _ = step_running(steps, SUITE_COMMAND)
    upload, step = step_using(steps, "actions/upload-artifact")
    assert suite < upload and step["if"] == "always()"
    assert step["with"]["path"].split()[0] == "reports/"
    assert step["with"]["name"] == "${{ env.REPORT_ARTIFACT }}"
    assert workflow["env"]["REPORT_ARTIFACT"]


def test_it_fetches_the_previous_report_and_fails_on_regressions(steps, workflow) -> None:
    download, fetch = step_running(steps, "gh run download")
    suite, _ = step_running(steps, SUITE_COMMAND)
    compare, diff = step_running(
        steps,
        "python -m chime_conformance.reporting diff previous/results.json reports/results.json",
    )
    assert download < suite < compare
    assert '--name "$REPORT_ARTIFACT" --dir previous' in fetch["run"]
    assert fetch["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert workflow["permissions"]["actions"] == "read"
    assert "exit $status" in diff["run"]  # the diff's exit status is the step's


def test_the_diff_command_the_workflow_calls_exists(capsys) -> None:
    assert main(["diff", "--help"]) == 0
    assert "OLD.json" in capsys.readouterr().out


def test_the_schema_catches_a_misspelt_step_key(workflow) -> None:
    schema = json.loads(WORKFLOW_SCHEMA.read_text(encoding="utf-8"))
    broken = json.loads(json.dumps(workflow))
    broken["jobs"]["conformance"]["steps"][0]["usess"] = "actions/checkout@v4"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate(broken)
