"""The private Hypothesis and schemathesis APIs the suite uses, held to the
versions pyproject.toml allows.

They are all in one module, chime_conformance/pytest_plugin/_library_internals.py.
Should a release within pyproject's range move one, these fail with a sentence
naming it: update that module, or narrow the pin."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from hypothesis.internal import reflection
from packaging.requirements import Requirement

from chime_conformance.pytest_plugin import _library_internals
from chime_conformance.pytest_plugin._library_internals import INTERNALS, missing_internals

REPO = Path(__file__).resolve().parents[2]
MODULE = Path(_library_internals.__file__).resolve()
LIBRARIES = sorted({internal.library for internal in INTERNALS})
# how a private API of either library is named in source
PRIVATE = re.compile(
    r"hypothesis\.internal|_hypothesis_internal|hypothesis\._|hypothesis_explicit_examples"
    r"|schemathesis(\.\w+)*\._|from (hypothesis|schemathesis)[\w.]* import _"
    r"|_CI_VARS|\._wrapped\b|\._fallback\b"
)


def allowed(library: str) -> Requirement:
    """pyproject.toml's requirement on ``library``."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    for text in pyproject["project"]["dependencies"]:
        requirement = Requirement(text)
        if requirement.name == library:
            return requirement
    raise AssertionError(f"pyproject.toml does not depend on {library}")


@pytest.mark.parametrize("library", LIBRARIES)
def test_the_installed_version_is_one_pyproject_allows(library: str) -> None:
    installed = metadata.version(library)
    assert allowed(library).specifier.contains(installed, prereleases=True), (
        f"{library} {installed} is installed, but pyproject.toml allows {allowed(library)}: "
        "these tests hold the internals to the versions it allows"
    )


def test_every_internal_the_suite_uses_is_where_it_was() -> None:
    missing = missing_internals()
    ranges = ", ".join(str(allowed(library)) for library in LIBRARIES)
    assert not missing, f"{'; '.join(missing)} (pyproject.toml allows {ranges})"


def test_a_moved_internal_is_named_in_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(reflection, "_clean_source")
    (sentence,) = missing_internals()
    version = metadata.version("hypothesis")
    assert sentence.startswith(f"hypothesis {version} no longer has hypothesis.internal.reflection")
    assert "_clean_source" in sentence and "\n" not in sentence


def test_with_a_moved_internal_the_digest_is_left_as_hypothesis_computes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import hypothesis.core

    monkeypatch.delattr(reflection, "get_signature")
    monkeypatch.setattr(_library_internals, "_APPLIED_DIGESTS", [])
    before = hypothesis.core.function_digest
    _library_internals.memoize_function_digests()
    assert hypothesis.core.function_digest is before


def test_no_other_module_uses_a_private_api_of_either_library() -> None:
    sources = [
        *(REPO / "chime_conformance").rglob("*.py"),
        *(REPO / "conformance").rglob("*.py"),
        *(REPO / "tests").rglob("*.py"),
    ]
    found = [
        f"{path.relative_to(REPO)}:{number}"
        for path in sources
        if path.resolve() not in (MODULE, Path(__file__).resolve())
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if PRIVATE.search(line)
    ]
    assert not found, f"private Hypothesis or schemathesis APIs used outside {MODULE.name}: {found}"
