"""Pointing the process' clients at one emulator for a while, and back.

The environment is process-wide, so activations form one stack: nested ones
(in the same thread) stack and unwind in order; one thread cannot start an
activation while another thread's is active, since the two would overwrite
each other's variables.
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from chime_conformance.testing._emulator import ChimeEmulator
from chime_conformance.testing._errors import MockChimeError

# unset for the duration: they would turn the endpoint variables off, or add a
# session token that the emulator's test keys do not go with
CLEARED_VARIABLES = (
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
)


@dataclass
class Activation:
    emulator: ChimeEmulator
    owner: str  # who activated it, for messages: "mock_chime", "the chime_emulator fixture"
    thread: threading.Thread = field(default_factory=threading.current_thread)
    saved_environment: dict[str, str | None] = field(default_factory=dict)
    saved_default_session: Any = None


_stack: list[Activation] = []
_stack_lock = threading.Lock()


def activate(emulator: ChimeEmulator, owner: str) -> Activation:
    """Sets ``emulator.environment`` (and clears :data:`CLEARED_VARIABLES`) until
    :func:`deactivate`; meanwhile boto3's default session is one signing as the
    emulator expects (the one outside caches the credentials it found first)."""
    with _stack_lock:
        if _stack and _stack[-1].thread is not threading.current_thread():
            active = _stack[-1]
            raise MockChimeError(
                f"{active.owner} is active in thread {active.thread.name!r}, and the "
                "AWS_ENDPOINT_URL_* variables are process-wide: start one mock_chime around "
                "every thread's work, or give each client endpoint_url=chime.url explicitly"
            )
        activation = Activation(emulator, owner)
        changes: dict[str, str | None] = dict.fromkeys(CLEARED_VARIABLES)
        changes |= emulator.environment
        activation.saved_environment = _patch_environment(changes)
        activation.saved_default_session = _swap_default_session(_default_session_for(emulator))
        _stack.append(activation)
    return activation


def deactivate(activation: Activation) -> None:
    """Restores what :func:`activate` changed; the innermost activation first."""
    with _stack_lock:
        if activation not in _stack:
            raise MockChimeError(
                f"{activation.owner} is not active: it was never started or is stopped"
            )
        if _stack[-1] is not activation:
            raise MockChimeError(
                f"{activation.owner} must stop after the {_stack[-1].owner} started inside it: "
                "stop the innermost one first"
            )
        _stack.pop()
        _patch_environment(activation.saved_environment)
        _swap_default_session(activation.saved_default_session)


def active_emulator() -> ChimeEmulator:
    """The emulator of the innermost active ``mock_chime`` or ``chime_emulator``:
    for decorated tests, their ``setUp``, and code that needs the handle."""
    with _stack_lock:
        if not _stack:
            raise MockChimeError(
                "no mock_chime is active: call active_emulator() inside `with mock_chime()`, "
                "a test decorated with @mock_chime, or a test using the chime_emulator fixture"
            )
        return _stack[-1].emulator


def _patch_environment(changes: dict[str, str | None]) -> dict[str, str | None]:
    """Applies ``changes`` (None: unset); what they replaced, to apply back."""
    previous = {name: os.environ.get(name) for name in changes}
    for name, value in changes.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    return previous


_default_sessions: dict[tuple[str, str, str | None, str], Any] = {}


def _default_session_for(emulator: ChimeEmulator) -> Any:
    """A boto3 session with the emulator's credentials and region (None before boto3
    is imported: it then makes its own from the environment). One per credentials and
    region for the process: a new session would load the service models again, about
    0.3 s a test; it reads the AWS_ENDPOINT_URL_* variables anew at each client."""
    boto3 = sys.modules.get("boto3")
    if boto3 is None:
        return None
    credentials = emulator.credentials
    key = (
        credentials.access_key,
        credentials.secret_key,
        credentials.session_token,
        emulator.region,
    )
    if key not in _default_sessions:
        _default_sessions[key] = boto3.Session(
            aws_access_key_id=credentials.access_key,
            aws_secret_access_key=credentials.secret_key,
            aws_session_token=credentials.session_token,
            region_name=emulator.region,
        )
    return _default_sessions[key]


def _swap_default_session(session: Any) -> Any:
    """Sets ``boto3.DEFAULT_SESSION`` (if boto3 is imported); the one it replaced.
    Restoring None works even if boto3 was imported meanwhile."""
    boto3 = sys.modules.get("boto3")
    if boto3 is None:
        return None
    previous = getattr(boto3, "DEFAULT_SESSION", None)
    setattr(boto3, "DEFAULT_SESSION", session)  # noqa: B010 (boto3 is typed as a module here)
    return previous
