"""The run's settings: which endpoint is under test, whether it may be, and how.

One frozen :class:`SuiteConfig` holds every setting of a run. The pytest
adapter (:mod:`chime_conformance.pytest_plugin.options`) is the one place
that reads options and the environment: it turns each text with the parsers
below, then :func:`build_config` checks what needs several settings at once
and builds the config, which is forwarded to xdist workers as it is
(:meth:`SuiteConfig.to_json`), never read again. Nothing here knows about
pytest; an error is a :class:`ConfigurationError` in one sentence.

This module is imported by the plugin in every pytest run of the
environment: it stays light (the transport is imported when it is used).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from chime_conformance.run.sharding import Shard, ci_run_id

if TYPE_CHECKING:
    from chime_conformance.run.events import RunEvents
    from chime_conformance.wire.client import Timeouts
    from chime_conformance.wire.retries import RetryPolicy
from chime_conformance.wire.sigv4 import is_loopback

DEFAULT_REGION = "us-east-1"
# How long a deletion may take to show: the real service cascades asynchronously.
DEFAULT_DELETION_WINDOW = 20.0
DEFAULT_MAX_RETRIES = 3
DEFAULT_MAX_RETRY_WAIT = 5.0
# RFC 6761 reserves this name for testing: it never resolves to AWS.
TEST_HOST_SUFFIX = ".test"
RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9]{1,20}")
_SHARD_PATTERN = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")
# the settings of TransportSettings, as build_config's values name them
TRANSPORT = ("connect_timeout", "read_timeout", "max_retries", "max_retry_wait")
_REPO_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+")


class ConfigurationError(ValueError):
    """An option or environment variable that cannot be used, said in one sentence."""


class LiveTargetRefused(ConfigurationError):
    """A target that is not loopback, without ``--allow-live`` (exit status 6)."""


@dataclass(frozen=True)
class TransportSettings:
    """Timeouts and retries (``--connect-timeout``, ``--read-timeout``,
    ``--max-retries``, ``--max-retry-wait``); a timeout left None is the
    client's default (:data:`chime_conformance.wire.client.DEFAULT_CONNECT_TIMEOUT`)."""

    connect_timeout: float | None = None
    read_timeout: float | None = None
    max_retries: int = DEFAULT_MAX_RETRIES
    max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT

    def timeouts(self) -> Timeouts:
        from chime_conformance.wire.client import Timeouts

        chosen = {"connect": self.connect_timeout, "read": self.read_timeout}
        return Timeouts(**{name: value for name, value in chosen.items() if value is not None})

    def retry_policy(self, events: RunEvents | None = None) -> RetryPolicy:
        from chime_conformance.wire.retries import AdaptiveRate, RetryPolicy

        return RetryPolicy(
            max_retries=self.max_retries,
            max_delay=self.max_retry_wait,
            listener=events.retried if events is not None else None,
            rate=AdaptiveRate(events.paced if events is not None else None),
        )


@dataclass(frozen=True)
class SuiteConfig:
    """Everything a conformance run needs to know: its target and its settings."""

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
    transport: TransportSettings = field(default_factory=TransportSettings)
    shard: Shard | None = None  # --shard K/N
    operations: frozenset[str] | None = None  # --operations; None: all
    baseline: Path | None = None  # --baseline: known failures
    no_shrink: bool = False
    # where Hypothesis keeps failing examples (chime_conformance.run.example_db)
    examples_dir: str | None = None
    examples_repo: str | None = None
    examples_artifact: str | None = None
    target_name: str | None = None  # --target-name: the endpoint's name in reports
    # --other-identity: (access key, secret key[, session token]) of an identity
    # in another AWS account, for the tenant tests; None: the embedded emulator's, or none
    other_identity: tuple[str, ...] | None = field(default=None, repr=False)

    @property
    def embedded(self) -> bool:
        return self.target_url is None

    def to_json(self) -> dict[str, Any]:
        """Plain data, as xdist hands it to a worker (:meth:`from_json`)."""
        data = asdict(self)
        data["report_dir"] = str(self.report_dir)
        data["shard"] = [self.shard.index, self.shard.total] if self.shard else None
        data["operations"] = sorted(self.operations) if self.operations is not None else None
        data["baseline"] = str(self.baseline) if self.baseline is not None else None
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SuiteConfig:
        values = dict(data)
        values["report_dir"] = Path(values["report_dir"])
        values["transport"] = TransportSettings(**values["transport"])
        values["shard"] = Shard(*values["shard"]) if values["shard"] else None
        chosen = values["operations"]
        values["operations"] = frozenset(chosen) if chosen is not None else None
        values["baseline"] = Path(values["baseline"]) if values["baseline"] else None
        other = values.get("other_identity")
        values["other_identity"] = tuple(other) if other else None
        return cls(**values)


def new_run_id() -> str:
    """A short id that names and tags every resource this run creates."""
    return "cc" + secrets.token_hex(5)


def build_config(
    values: Mapping[str, Any], *, ci_run: Mapping[str, str] | None = None
) -> SuiteConfig:
    """A checked :class:`SuiteConfig` from settings, each already parsed by
    the parser of its option (URLs, numbers, the shard…); absent ones take
    their defaults. ``ci_run``: the CI variables a shared run id derives from.
    Raises :class:`ConfigurationError` (:class:`LiveTargetRefused` for a
    target that may not be touched)."""
    given = {name: value for name, value in values.items() if value not in (None, "")}
    shard: Shard | None = given.get("shard")
    run_id = given.get("run_id") or ci_run_id(ci_run or {})
    if shard is not None and shard.total > 1 and run_id is None:
        raise ConfigurationError(
            f"--shard {shard} needs the run id all shards share: pass the same --run-id "
            "to every shard (or run under GitHub Actions, where it is derived from the run)"
        )
    transport: dict[str, Any] = {name: given[name] for name in TRANSPORT if name in given}
    config = SuiteConfig(
        target_url=given.get("target_url"),
        accounts_url=given.get("accounts_url"),
        region=str(given.get("region") or DEFAULT_REGION),
        strict=bool(given.get("strict")),
        allow_live=bool(given.get("allow_live")),
        report_dir=Path(given.get("report_dir") or "reports"),
        run_id=run_id or new_run_id(),
        reference_url=given.get("reference_url"),
        deletion_window=given.get("deletion_window", DEFAULT_DELETION_WINDOW),
        transport=TransportSettings(**transport),
        shard=shard,
        operations=given.get("operations"),
        baseline=given.get("baseline"),
        no_shrink=bool(given.get("no_shrink")),
        examples_dir=given.get("examples_dir"),
        examples_repo=given.get("examples_repo"),
        examples_artifact=given.get("examples_artifact"),
        target_name=given.get("target_name"),
        other_identity=given.get("other_identity"),
    )
    refuse_live_without_consent(config)
    return config


# --------------------------------------------------------------------------
# Parsers: one setting's text to its value, or ConfigurationError saying what
# it must be (the caller names the option or variable it came from)


def http_url(text: str) -> str:
    """An http(s) URL with a host and neither query nor fragment; no trailing ``/``."""
    url = text.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"must be an http(s) URL with a host, got {text!r}")
    if parts.query or parts.fragment:
        raise ConfigurationError(f"must not have a query or fragment, got {text!r}")
    return url


def seconds(text: str) -> float:
    """A positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise ConfigurationError(f"must be a number of seconds, got {text!r}") from None
    if not value > 0 or value == float("inf"):  # NaN fails too
        raise ConfigurationError(f"must be positive, got {text!r}")
    return value


def retry_count(text: str) -> int:
    """A whole number of retries, 0 allowed."""
    try:
        value = int(text)
    except ValueError:
        raise ConfigurationError(f"must be a whole number, got {text!r}") from None
    if value < 0:
        raise ConfigurationError(f"must be positive, got {text!r}")
    return value


def deletion_window(text: str) -> float:
    """Seconds from 0 to 3600."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value <= 3600:  # NaN fails too
        raise ConfigurationError(f"must be a number of seconds from 0 to 3600, got {text!r}")
    return value


def shard(text: str) -> Shard:
    """``"K/N"`` with 1 ≤ K ≤ N."""
    match = _SHARD_PATTERN.fullmatch(text)
    if not match:
        raise ConfigurationError(f"must be K/N (e.g. 2/3), got {text!r}")
    index, total = int(match[1]), int(match[2])
    if not 1 <= index <= total:
        raise ConfigurationError(f"must be K/N with K from 1 to N (e.g. 2/3), got {text.strip()!r}")
    return Shard(index, total)


def run_id(text: str) -> str:
    """1 to 20 letters or digits: it starts every resource name."""
    if not RUN_ID_PATTERN.fullmatch(text):
        raise ConfigurationError(
            f"must be 1 to 20 letters or digits (it starts every resource name), got {text!r}"
        )
    return text


def operations(text: str) -> frozenset[str]:
    """Operations or resource families of the API, comma-separated (any case)."""
    from chime_conformance.contract import spec

    known = spec.operations()
    families: dict[str, set[str]] = {}
    for op in known:
        families.setdefault(op.family.lower(), set()).add(op.name)
    by_name = {op.name.lower(): op.name for op in known}
    chosen: set[str] = set()
    for name in (part.strip() for part in text.split(",")):
        if not name:
            continue
        if name.lower() in by_name:
            chosen.add(by_name[name.lower()])
        elif name.lower() in families:
            chosen |= families[name.lower()]
        else:
            names = ", ".join(sorted({op.family for op in known}))
            raise ConfigurationError(
                f"{name!r} is neither an operation nor a resource family of the API "
                f"(families: {names})"
            )
    return frozenset(chosen)


def identity(text: str) -> tuple[str, ...]:
    """``ACCESS_KEY:SECRET_KEY`` or ``ACCESS_KEY:SECRET_KEY:SESSION_TOKEN``."""
    parts = tuple(part.strip() for part in text.strip().split(":"))
    if len(parts) not in (2, 3) or not all(parts):
        raise ConfigurationError(
            "must be ACCESS_KEY:SECRET_KEY or ACCESS_KEY:SECRET_KEY:SESSION_TOKEN, "
            f"got {len(parts)} part(s)"
        )
    return parts


def github_repository(text: str) -> str:
    """A GitHub repository, ``owner/name``."""
    if not _REPO_PATTERN.fullmatch(text.strip()):
        raise ConfigurationError(f"must be a GitHub repository owner/name, got {text!r}")
    return text.strip()


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
