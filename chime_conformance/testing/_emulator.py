"""One running emulator as a test sees it: where it listens, ready clients, its
state (reset, seeded, saved), and failures on purpose."""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from chime_conformance.emulator.app import EmulatorConfig
from chime_conformance.emulator.server import RunningEmulator, start_emulator
from chime_conformance.emulator.state import StateFileError, load_state, save_state
from chime_conformance.testing._disruptions import Disruption, Disruptions
from chime_conformance.testing._errors import MockChimeError
from chime_conformance.testing._seed import Seed

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"
TEST_KEY = "testing"  # access key and secret key, when the environment names none
SERVICES = ("chime-sdk-identity", "chime")
# What botocore (>= 1.31), the AWS CLI and the AWS SDK for JavaScript v3 read to
# send one service's calls to another endpoint: AWS_ENDPOINT_URL_ + the service id
# in capitals, spaces as underscores ("Chime SDK Identity", "Chime").
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_CHIME_SDK_IDENTITY", "AWS_ENDPOINT_URL_CHIME")


@dataclass(frozen=True)
class Credentials:
    """What the clients sign with, and so what the emulator accepts."""

    access_key: str = TEST_KEY
    secret_key: str = TEST_KEY
    session_token: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Credentials:
        """The environment's keys when it names both (CI's dummy keys keep working);
        otherwise the emulator's test keys."""
        key, secret = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
        if not (key and secret):
            return cls()
        token = environ.get("AWS_SESSION_TOKEN") or environ.get("AWS_SECURITY_TOKEN")
        return cls(key, secret, token or None)


@dataclass(frozen=True)
class EmulatorOptions:
    """What ``mock_chime(...)`` and ``chime_emulator_options`` may set."""

    region: str | None = None  # None: $AWS_DEFAULT_REGION, $AWS_REGION, or us-east-1
    account_id: str = DEFAULT_ACCOUNT_ID
    faults: Sequence[str] = ()
    allow_faults: bool = False
    snapshot: str | os.PathLike[str] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.faults, str):
            raise MockChimeError(
                f"faults is a list of fault names, not one string: write faults=[{self.faults!r}]"
            )

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any], where: str) -> EmulatorOptions:
        unknown = sorted(set(options) - {f.name for f in fields(cls)})
        if unknown:
            known = ", ".join(f.name for f in fields(cls))
            raise MockChimeError(f"{where} has no option {', '.join(unknown)} (it takes {known})")
        return cls(**options)


class ChimeEmulator:
    """A running emulator of both APIs (Chime SDK Identity and the Chime accounts
    API), as ``with mock_chime() as chime`` and the ``chime_emulator`` fixture give it.

    ``url`` is its endpoint; ``environment`` the variables that point any SDK at it;
    ``identity`` and ``accounts`` are ready botocore clients (what ``boto3.client``
    returns) for ``chime-sdk-identity`` and ``chime``; ``seed`` builds state;
    ``reset()`` goes back to the starting state; ``throttle()`` and ``slow()`` make
    the next calls fail or wait, for testing a client's retry logic.
    """

    def __init__(
        self, running: RunningEmulator, credentials: Credentials, baseline: Path | None
    ) -> None:
        self._running = running
        self.credentials = credentials
        self._disruptions = Disruptions.install(running.app)
        self._clients: dict[str, Any] = {}
        self.seed = Seed(self)
        # the starting state's snapshot text, which reset() restores
        self._baseline = self._load(baseline) if baseline is not None else None

    def __repr__(self) -> str:
        return f"<ChimeEmulator {self.url} account {self.account_id} region {self.region}>"

    @property
    def url(self) -> str:
        return self._running.url

    @property
    def region(self) -> str:
        return self._running.config.region

    @property
    def account_id(self) -> str:
        return self._running.config.account_id

    @property
    def faults(self) -> tuple[str, ...]:
        return self._running.config.faults

    @property
    def environment(self) -> dict[str, str]:
        """The variables that send botocore, boto3, the AWS CLI and the AWS SDK for
        JavaScript v3 to this emulator, signed as it expects (``mock_chime`` and the
        fixture set them; give them to a subprocess yourself)."""
        variables = dict.fromkeys(ENDPOINT_VARIABLES, self.url)
        variables |= {
            "AWS_ACCESS_KEY_ID": self.credentials.access_key,
            "AWS_SECRET_ACCESS_KEY": self.credentials.secret_key,
            "AWS_DEFAULT_REGION": self.region,  # botocore, the AWS CLI
            "AWS_REGION": self.region,  # the AWS SDK for JavaScript v3
        }
        if self.credentials.session_token:
            variables["AWS_SESSION_TOKEN"] = self.credentials.session_token
        return variables

    # -- clients -------------------------------------------------------------------

    @property
    def identity(self) -> Any:
        """A ``chime-sdk-identity`` client of this emulator (made once)."""
        return self._client("chime-sdk-identity")

    @property
    def accounts(self) -> Any:
        """A ``chime`` client (the accounts API) of this emulator (made once)."""
        return self._client("chime")

    def client(self, service_name: str, **options: Any) -> Any:
        """A new client of ``service_name`` (``chime-sdk-identity`` or ``chime``) for
        this emulator; ``options`` go to ``create_client`` (``config=Config(...)``)."""
        if service_name not in SERVICES:
            raise MockChimeError(
                f"the emulator serves {' and '.join(SERVICES)}, not {service_name!r}"
            )
        settings = {
            "region_name": self.region,
            "endpoint_url": self.url,
            "aws_access_key_id": self.credentials.access_key,
            "aws_secret_access_key": self.credentials.secret_key,
            "aws_session_token": self.credentials.session_token,
        }
        return _create_client(service_name, **(settings | options))

    def _client(self, service_name: str) -> Any:
        if service_name not in self._clients:
            self._clients[service_name] = self.client(service_name)
        return self._clients[service_name]

    # -- state ---------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the starting state (empty, or the snapshot the emulator started
        from), with no throttle or delay pending; the server keeps running."""
        self._disruptions.clear()
        if self._baseline is None:
            self._running.reset()
            return
        backend = self._running.backend
        with backend.lock:  # the snapshot was checked when the emulator started
            backend.restore(json.loads(self._baseline))
            backend.commit()

    def load_snapshot(self, path: str | os.PathLike[str]) -> None:
        """Replaces the whole state with a ``chime-emulator-state/1`` JSON snapshot
        (what ``save_snapshot`` and ``chime-emulator --export`` write)."""
        self._load(Path(path))

    def _load(self, source: Path) -> str:
        """Loads ``source`` (refusing a snapshot of other accounts and regions only);
        its text."""
        backend = self._running.backend
        with backend.lock:
            if not load_state(backend, source):
                raise StateFileError(f"snapshot {source} to load does not exist")
            backend.commit()
            text = source.read_text(encoding="utf-8")
            scopes = _scopes(json.loads(text))
            if scopes and (self.account_id, self.region) not in scopes:
                backend.reset()
                backend.commit()
                account, region = sorted(scopes)[0]
                raise MockChimeError(
                    f"snapshot {source} holds state for account {account} in {region}, none "
                    f"for account {self.account_id} in {self.region} that this emulator "
                    f"serves: pass region={region!r} (and account_id) to mock_chime or "
                    "chime_emulator_options"
                )
        return text

    def save_snapshot(self, path: str | os.PathLike[str]) -> None:
        """Writes the whole state as a JSON snapshot, for ``mock_chime(snapshot=...)``."""
        save_state(self._running.backend, Path(path))

    # -- failures on purpose -------------------------------------------------------

    def throttle(
        self, operation: str | None = None, *, times: int = 1, retry_after: int = 1
    ) -> Disruption:
        """The next ``times`` calls (of ``operation``, or of any) are answered
        ``429 ThrottledClientException`` with ``Retry-After: retry_after``, and not
        carried out; the returned record counts them (``.answered``)."""
        if isinstance(retry_after, bool) or not isinstance(retry_after, int) or retry_after < 0:
            raise MockChimeError(
                f"retry_after must be whole seconds, 0 or more, not {retry_after!r}"
            )
        return self._disruptions.add("throttle", operation, times=times, seconds=retry_after)

    def slow(self, seconds: float, *, operation: str | None = None, times: int = 1) -> Disruption:
        """The next ``times`` calls (of ``operation``, or of any) are carried out and
        answered ``seconds`` late; a reset or the end of the emulator lets them go at once.
        A client that gives up and retries has sent the request twice, as with AWS."""
        return self._disruptions.add("slow", operation, times=times, seconds=seconds)

    def _stop(self) -> None:
        self._disruptions.clear()
        self._running.stop()


def launch(options: EmulatorOptions, environ: Mapping[str, str] = os.environ) -> ChimeEmulator:
    """An emulator started in-process on a free loopback port, accepting the
    credentials and signing region the environment's clients will use."""
    credentials = Credentials.from_environment(environ)
    region = (
        options.region or environ.get("AWS_DEFAULT_REGION") or environ.get("AWS_REGION")
    ) or DEFAULT_REGION
    keys, temporary = (credentials.access_key, credentials.secret_key), None
    if credentials.session_token:  # the emulator takes them as its temporary credentials
        keys, temporary = (TEST_KEY, TEST_KEY), (*keys, credentials.session_token)
    config = EmulatorConfig(
        host="127.0.0.1",
        port=0,
        region=region,
        account_id=options.account_id,
        access_key=keys[0],
        secret_key=keys[1],
        temporary_credentials=temporary,
        faults=tuple(options.faults),
        allow_faults=options.allow_faults,
    )
    running = start_emulator(config)
    try:
        baseline = Path(options.snapshot) if options.snapshot is not None else None
        return ChimeEmulator(running, credentials, baseline)
    except BaseException:
        running.stop()
        raise


def _scopes(snapshot: Mapping[str, Any]) -> set[tuple[str, str]]:
    entries = [*snapshot["identity"], *snapshot["accounts"]]
    return {(entry["account_id"], entry["region"]) for entry in entries}


_client_lock = threading.Lock()


@functools.cache
def _botocore_session() -> Any:
    import botocore.session

    return botocore.session.get_session()


def _create_client(service_name: str, **settings: Any) -> Any:
    # one session for every emulator: it loads each service model once
    with _client_lock:
        return _botocore_session().create_client(service_name, **settings)
