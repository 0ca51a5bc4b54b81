"""The run's settings: which endpoint is under test, and whether it may be.

Read once from options and environment (plugin.py), then passed around as one
frozen :class:`SuiteConfig`; nothing else reads options or the environment.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from chime_conformance.wire.sigv4 import is_loopback

DEFAULT_REGION = "us-east-1"
# How long a deletion may take to show: the real service cascades asynchronously.
DEFAULT_DELETION_WINDOW = 20.0
# RFC 6761 reserves this name for testing: it never resolves to AWS.
TEST_HOST_SUFFIX = ".test"


class ConfigurationError(ValueError):
    """An option or environment variable that cannot be used, said in one sentence."""


class LiveTargetRefused(ConfigurationError):
    """A target that is not loopback, without ``--allow-live`` (exit status 6)."""


@dataclass(frozen=True)
class SuiteConfig:
    """Everything a conformance run needs to know about its target."""

    target_url: str | None  # None: the embedded emulator
    accounts_url: str | None  # None: the target URL serves the accounts API too
    region: str
    strict: bool
    allow_live: bool
    report_dir: Path
    run_id: str
    reference_url: str | None = None  # a second target answering the same requests
    # seconds a deleted resource may still read back (--deletion-window)
    deletion_window: float = DEFAULT_DELETION_WINDOW

    @property
    def embedded(self) -> bool:
        return self.target_url is None


def new_run_id() -> str:
    """A short id that names and tags every resource this run creates."""
    return "cc" + secrets.token_hex(5)


def build_config(values: Mapping[str, object], *, run_id: str | None = None) -> SuiteConfig:
    """A checked :class:`SuiteConfig` from option values (already env-resolved)."""
    target = _url_or_none(values.get("target_url"), "--target-url")
    accounts = _url_or_none(values.get("accounts_url"), "--accounts-url")
    reference = _url_or_none(values.get("reference_url"), "--reference-url")
    region = str(values.get("region") or DEFAULT_REGION)
    config = SuiteConfig(
        target_url=target,
        accounts_url=accounts,
        region=region,
        strict=bool(values.get("strict")),
        allow_live=bool(values.get("allow_live")),
        report_dir=Path(str(values.get("report_dir") or "reports")),
        run_id=run_id or new_run_id(),
        reference_url=reference,
        deletion_window=_deletion_window(values.get("deletion_window")),
    )
    refuse_live_without_consent(config)
    return config


def _deletion_window(value: object) -> float:
    if value in (None, ""):
        return DEFAULT_DELETION_WINDOW
    try:
        seconds = float(str(value))
    except ValueError:
        seconds = float("nan")
    if not 0 <= seconds <= 3600:  # NaN fails too
        raise ConfigurationError(
            f"--deletion-window must be a number of seconds from 0 to 3600, got {value!r}"
        )
    return seconds


def _url_or_none(value: object, option: str) -> str | None:
    if value in (None, ""):
        return None
    url = str(value).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"{option} must be an http(s) URL with a host, got {value!r}")
    if parts.query or parts.fragment:
        raise ConfigurationError(f"{option} must not have a query or fragment, got {value!r}")
    return url


def is_test_host(url: str) -> bool:
    """Whether ``url`` names a host that cannot be AWS: this machine
    (:func:`~chime_conformance.wire.sigv4.is_loopback`) or a name RFC 6761
    reserves for testing (``*.test``). Such a target needs no ``--allow-live``."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return is_loopback(url) or host.endswith(TEST_HOST_SUFFIX)


def refuse_live_without_consent(config: SuiteConfig) -> None:
    """Raise unless every target is local or the user passed ``--allow-live``."""
    for url in (config.target_url, config.accounts_url, config.reference_url):
        if url and not is_test_host(url) and not config.allow_live:
            raise LiveTargetRefused(
                f"{url} is not a loopback or test host; pass --allow-live to run the "
                "suite against it (it will create and delete resources there)"
            )
