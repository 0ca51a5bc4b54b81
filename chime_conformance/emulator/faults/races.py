"""Races: rules that hold for requests one at a time and break only under overlap.

Each fault turns one atomic rule into a check-then-act with a window between
the check and the act (:data:`RACE_WINDOW`), as a store without transactions
would: the check runs under the backend's lock, the wait outside it, the act
under it again. A request alone sees the same state at both ends of its window
and is served right; requests that overlap change the state under each other.
The wrapper sits around the call of a handler (``hooks.wrap_dispatch``), which
is outside the lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from chime_conformance.contract import spec
from chime_conformance.emulator.app import EmulatorApp
from chime_conformance.emulator.exceptions import ConflictException
from chime_conformance.emulator.faults.registry import fault
from chime_conformance.emulator.hooks import Dispatch
from chime_conformance.emulator.iam import Identity
from chime_conformance.emulator.models import IdentityBackend

# Seconds between the check and the act: overlapping requests sent together
# (a few milliseconds apart) all fall into it, and one request alone pays it once.
RACE_WINDOW = 0.15


@contextmanager
def _state(app: EmulatorApp, caller: Identity) -> Iterator[IdentityBackend]:
    """The caller's account's identity state, under the backend's lock."""
    with app.backend.lock:
        yield app.backend.identity(caller.account_id, app.config.region)


Act = Callable[[Dispatch, spec.Operation, dict[str, Any], Identity], Any]


def _racy(app: EmulatorApp, operation_name: str, act: Act) -> None:
    """Serve ``operation_name`` with ``act(dispatch, operation, members, caller)``."""

    def wrapper(dispatch: Dispatch) -> Dispatch:
        def racy(operation: spec.Operation, members: dict[str, Any], caller: Identity) -> Any:
            if operation.name != operation_name:
                return dispatch(operation, members, caller)
            return act(dispatch, operation, members, caller)

        return racy

    app.hooks.wrap_dispatch(wrapper)


@fault(
    "overlapping_user_creates_both_succeed",
    category="concurrency",
    breaks="Of overlapping CreateAppInstanceUser calls with one AppInstanceUserId exactly one "
    "succeeds and the others are 409 (docs/contract.md concurrency); here each checks the id is "
    "free, waits, and then every one answers 201, the last write winning.",
)
def _overlapping_user_creates_both_succeed(app: EmulatorApp) -> None:
    def act(
        dispatch: Dispatch, operation: spec.Operation, members: dict[str, Any], caller: Identity
    ) -> Any:
        arn = f"{members['AppInstanceArn']}/user/{members['AppInstanceUserId']}"
        with _state(app, caller) as identity:
            free = arn not in identity.users
        if not free:
            return dispatch(operation, members, caller)
        time.sleep(RACE_WINDOW)
        try:
            return dispatch(operation, members, caller)
        except ConflictException:  # taken in the window: written over, as a blind put would
            with _state(app, caller) as identity:
                user = identity.users.get(arn)
                if user is None:  # a conflict of another kind (a reused token)
                    raise
                user.name, user.metadata = members["Name"], members.get("Metadata")
            return {"AppInstanceUserArn": arn}

    _racy(app, "CreateAppInstanceUser", act)


@fault(
    "overlapping_token_replays_create_twice",
    category="concurrency",
    breaks="Overlapping CreateAppInstance calls with one ClientRequestToken and one input make "
    "one AppInstance (docs/contract.md concurrency); here each checks the token is new, waits, "
    "and then every one creates its own.",
)
def _overlapping_token_replays_create_twice(app: EmulatorApp) -> None:
    def act(
        dispatch: Dispatch, operation: spec.Operation, members: dict[str, Any], caller: Identity
    ) -> Any:
        key = f"CreateAppInstance {members['ClientRequestToken']}"
        with _state(app, caller) as identity:
            new = key not in identity.idempotency
        if not new:
            return dispatch(operation, members, caller)
        time.sleep(RACE_WINDOW)
        with _state(app, caller) as identity:
            identity.idempotency.pop(key, None)  # the token was new when it looked
            return dispatch(operation, members, caller)

    _racy(app, "CreateAppInstance", act)


@fault(
    "overlapping_tag_writes_lose_keys",
    category="concurrency",
    breaks="Overlapping TagResource calls with different keys leave every key on the resource "
    "(docs/contract.md concurrency); here each reads the tags, waits, and writes back what it "
    "read plus its own keys, so the last write drops the others'.",
)
def _overlapping_tag_writes_lose_keys(app: EmulatorApp) -> None:
    def act(
        dispatch: Dispatch, operation: spec.Operation, members: dict[str, Any], caller: Identity
    ) -> Any:
        arn = members["ResourceARN"]
        with _state(app, caller) as identity:
            try:
                before = dict(identity.taggable(arn).tags)
            except Exception:  # a missing resource is the rule's own 404
                return dispatch(operation, members, caller)
        time.sleep(RACE_WINDOW)
        with _state(app, caller) as identity:
            result = dispatch(operation, members, caller)  # the limit and the 404 as usual
            written = {tag["Key"]: tag["Value"] for tag in members["Tags"]}
            tags = identity.taggable(arn).tags
            tags.clear()
            tags.update({**before, **written})
            return result

    _racy(app, "TagResource", act)


@fault(
    "child_created_during_delete_orphaned",
    category="concurrency",
    breaks="A user created while its AppInstance is deleted does not outlive it (docs/contract.md "
    "concurrency); here the create checks the AppInstance, waits, and stores the user even if "
    "the AppInstance was deleted meanwhile.",
)
def _child_created_during_delete_orphaned(app: EmulatorApp) -> None:
    def act(
        dispatch: Dispatch, operation: spec.Operation, members: dict[str, Any], caller: Identity
    ) -> Any:
        parent = members["AppInstanceArn"]
        with _state(app, caller) as identity:
            instance = identity.app_instances.get(parent)
        if instance is None:
            return dispatch(operation, members, caller)
        time.sleep(RACE_WINDOW)
        with _state(app, caller) as identity:
            if parent in identity.app_instances:
                return dispatch(operation, members, caller)
            identity.app_instances[parent] = instance  # as it was when it looked
            try:
                return dispatch(operation, members, caller)
            finally:
                del identity.app_instances[parent]

    _racy(app, "CreateAppInstanceUser", act)
