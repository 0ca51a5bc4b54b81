"""--other-identity (CHIME_CONFORMANCE_OTHER_IDENTITY): a second identity, in
another AWS account, for the tenant tests; parsed in one sentence, never
shown, carried to xdist workers unchanged."""

from __future__ import annotations

import json

import pytest

from chime_conformance.pytest_plugin.options import BY_NAME, _from_environment
from chime_conformance.run.config import ConfigurationError, SuiteConfig, build_config, identity


def test_an_identity_is_two_or_three_parts() -> None:
    assert identity("AKID:SECRET") == ("AKID", "SECRET")
    assert identity(" AKID:SECRET:TOKEN ") == ("AKID", "SECRET", "TOKEN")


@pytest.mark.parametrize("text", ["AKID", "AKID:", ":SECRET", "A:B:C:D"])
def test_a_malformed_identity_is_refused_in_one_sentence(text: str) -> None:
    with pytest.raises(ConfigurationError, match="must be ACCESS_KEY:SECRET_KEY") as error:
        identity(text)
    assert "\n" not in str(error.value) and "SECRET" not in str(error.value).split("got")[1]


def test_the_environment_gives_it_and_a_bad_one_names_the_variable() -> None:
    option = BY_NAME["other_identity"]
    assert _from_environment(option, {option.env: "AKID:SECRET"}) == ("AKID", "SECRET")
    assert _from_environment(option, {}) is None
    with pytest.raises(ConfigurationError, match=r"^--other-identity \(from \$CHIME_CONFORMANCE"):
        _from_environment(option, {option.env: "only-a-key"})


def test_it_crosses_to_a_worker_and_never_shows_its_secret() -> None:
    config = build_config({"other_identity": ("AKID", "SECRET")})
    assert SuiteConfig.from_json(json.loads(json.dumps(config.to_json()))) == config
    assert "SECRET" not in repr(config)
    assert build_config({}).other_identity is None
