"""Both spec documents are valid OpenAPI 3.1, and their patterns work in Python and ECMA."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from openapi_spec_validator import validate

from chime_conformance.contract.spec import APIS, load_document

# Example values and link expressions are data: a key named "pattern" there is no keyword.
DATA_KEYS = frozenset({"example", "examples", "links"})

# Compiles each pattern as an ECMA-262 regex with the `u` flag (what schemathesis,
# browsers and JSON Schema validators in JS use) and prints the ones that fail.
NODE_COMPILE_PATTERNS = """
const patterns = JSON.parse(require("fs").readFileSync(0, "utf8"));
const failures = {};
for (const [where, pattern] of Object.entries(patterns)) {
  try { new RegExp(pattern, "u"); } catch (error) { failures[where] = error.message; }
}
process.stdout.write(JSON.stringify(failures));
"""


def walk(node: Any, pointer: str = "") -> Iterator[tuple[str, str, Any]]:
    """(pointer of the owner, key, value) of every keyword in ``node``, data skipped."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from walk(item, f"{pointer}/{index}")
    elif isinstance(node, Mapping):
        for key, value in node.items():
            if key in DATA_KEYS:
                continue
            if key != "properties":  # under properties, keys are member names
                yield pointer, key, value
            yield from walk(value, f"{pointer}/{key}")


def patterns_of(document: Mapping[str, Any]) -> dict[str, str]:
    return {
        f"{pointer}/pattern": value
        for pointer, key, value in walk(document)
        if key == "pattern" and isinstance(value, str)
    }


def follow(document: Mapping[str, Any], ref: str) -> Any:
    node: Any = document
    for token in ref.removeprefix("#/").split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


@pytest.mark.parametrize("api", APIS)
def test_document_is_valid_openapi(api: str) -> None:
    validate(load_document(api))


@pytest.mark.parametrize("api", APIS)
def test_every_pattern_compiles_in_python(api: str) -> None:
    failures = []
    for where, pattern in patterns_of(load_document(api)).items():
        try:
            re.compile(pattern)
        except re.error as error:
            failures.append(f"{where}: {pattern!r}: {error}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("api", APIS)
def test_every_pattern_compiles_as_an_ecma_unicode_regex(api: str) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH: cannot compile patterns as ECMA-262 regexes")
    patterns = patterns_of(load_document(api))
    result = subprocess.run(
        [node, "-e", NODE_COMPILE_PATTERNS],
        input=json.dumps(patterns),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    failures = json.loads(result.stdout)
    assert not failures, "\n".join(
        f"{where}: {patterns[where]!r}: {m}" for where, m in failures.items()
    )


def test_the_ecma_check_rejects_what_ecma_rejects() -> None:
    # botocore's UserId escapes `\:`, which the `u` flag forbids: the check must see it.
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH: cannot compile patterns as ECMA-262 regexes")
    patterns = {"/bad": r"[A-Za-z0-9\:]", "/good": r"^[A-Za-z0-9:]$"}
    result = subprocess.run(
        [node, "-e", NODE_COMPILE_PATTERNS],
        input=json.dumps(patterns),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert set(json.loads(result.stdout)) == {"/bad"}


def test_every_operation_id_is_unique() -> None:
    # One emulator endpoint serves both APIs, and reports key results by operationId.
    operation_ids = Counter(
        value
        for api in APIS
        for _, key, value in walk(load_document(api).get("paths") or {})
        if key == "operationId" and isinstance(value, str)
    )
    duplicates = sorted(name for name, count in operation_ids.items() if count > 1)
    assert not duplicates, f"operationIds used more than once: {duplicates}"


@pytest.mark.parametrize("api", APIS)
def test_every_ref_resolves(api: str) -> None:
    document = load_document(api)
    broken = []
    for pointer, key, value in walk(document):
        if key != "$ref":
            continue
        if not isinstance(value, str) or not value.startswith("#/"):
            broken.append(f"{pointer}: {value!r} is not a local reference")
            continue
        try:
            follow(document, value)
        except (KeyError, IndexError, TypeError):
            broken.append(f"{pointer}: {value} does not resolve")
    assert not broken, "\n".join(broken)
