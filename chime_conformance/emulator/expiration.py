"""User expiration (docs/contract.md, rule user-expiration) and the clock that drives it.

botocore's documentation of PutAppInstanceUserExpirationSettings: a background
process deletes a user within 6 hours of its expiration (the criterion is
``CREATED_TIMESTAMP``: ``CreatedTimestamp + ExpirationDays``); settings changed
before the deletion are honoured; an absent ExpirationSettings clears them. The
emulator sweeps when its expiration clock is moved and, otherwise, at most once
a minute of real time.

The expiration clock is the real clock plus offsets a test moves through
``/_emulator/clock``: one for the whole emulator and one per AppInstance, so
that a suite moving the clock for its own AppInstance expires no user of
another test running beside it. Resource timestamps keep the real clock: a
moved clock never makes another answer's timestamps implausible.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from chime_conformance.emulator.exceptions import BadRequestException

SECONDS_PER_DAY = 86_400
SWEEP_INTERVAL = 60.0  # real seconds between sweeps when nobody moves the clock
# the clock stays within what a timestamp can say: the epoch to the end of year 9999
LATEST_NOW = 253_402_300_799
MAX_ARN_LENGTH = 1600  # ChimeArn's maxLength
CLOCK_REQUEST = (
    f'Expected {{"advance_seconds": N}} (0 to {LATEST_NOW}) or {{"now": epoch seconds}} '
    f'(0 to {LATEST_NOW}) or {{"reset": true}}, optionally with "app_instance_arn" (a string '
    f"of at most {MAX_ARN_LENGTH} characters) to move only that AppInstance's clock."
)


class ExpiringUser(Protocol):
    """What the expiration rule reads of a user (models.AppInstanceUser has it)."""

    arn: str
    app_instance_arn: str
    created: float
    expiration_settings: dict[str, Any] | None


class UsersBackend(Protocol):
    """What the expiration rule needs of an identity backend (models.IdentityBackend):
    its users, and the delete DeleteAppInstanceUser performs. A Protocol, so this
    module needs nothing of models, which imports it."""

    @property
    def users(self) -> Mapping[str, ExpiringUser]: ...

    def delete_app_instance_user(self, arn: str) -> Any: ...

    def expire_users(self, clock: ExpirationClock) -> list[str]: ...


class ExpirationClock:
    """Now, as the expiration process sees it: the real clock plus offsets."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.offset = 0.0
        self.scoped: dict[str, float] = {}  # AppInstanceArn -> its own extra offset
        self.last_sweep = -math.inf

    def now(self, app_instance_arn: str | None = None) -> float:
        return self._clock() + self.offset + self.scoped.get(app_instance_arn or "", 0.0)

    def real(self) -> float:
        return self._clock()

    def sweep_due(self) -> bool:
        return self.real() - self.last_sweep >= SWEEP_INTERVAL

    def move(self, request: Any) -> None:
        """Apply a ``/_emulator/clock`` request; BadRequest names what is expected."""
        if not isinstance(request, dict):
            raise BadRequestException(CLOCK_REQUEST)
        scope = request.get("app_instance_arn")
        if scope is not None and not (isinstance(scope, str) and len(scope) <= MAX_ARN_LENGTH):
            raise BadRequestException(CLOCK_REQUEST)
        # a scoped clock's offset comes on top of the whole emulator's
        base = self.real() + (self.offset if scope else 0.0)
        moves = [key for key in ("reset", "advance_seconds", "now") if key in request]
        if len(moves) != 1:
            raise BadRequestException(CLOCK_REQUEST)
        value = request[moves[0]]
        seconds = _seconds(value)
        if moves[0] == "reset" and value is True:
            self._set(scope, 0.0)
        elif moves[0] == "advance_seconds" and seconds is not None:
            self._set(scope, self._checked(base, self._offset(scope) + seconds))
        elif moves[0] == "now" and seconds is not None:
            self._set(scope, self._checked(base, seconds - base))
        else:
            raise BadRequestException(CLOCK_REQUEST)

    def describe(self, app_instance_arn: str | None = None) -> dict[str, Any]:
        described: dict[str, Any] = {
            "now": self.now(app_instance_arn),
            "offset_seconds": self.offset,
        }
        if self.scoped:
            described["app_instances"] = dict(self.scoped)
        return described

    def reset(self) -> None:
        self.offset = 0.0
        self.scoped.clear()
        self.last_sweep = -math.inf

    @staticmethod
    def _checked(base: float, offset: float) -> float:
        """``offset``, if the clock it makes still reads 0 to LATEST_NOW."""
        if not 0 <= base + offset <= LATEST_NOW:
            raise BadRequestException(
                f"That would move the clock to {base + offset:.0f}, outside 0 to {LATEST_NOW} "
                f"(the end of year 9999). {CLOCK_REQUEST}"
            )
        return offset

    def _offset(self, scope: str | None) -> float:
        return self.scoped.get(scope, 0.0) if scope else self.offset

    def _set(self, scope: str | None, offset: float) -> None:
        if scope:
            self.scoped[scope] = offset
        else:
            self.offset = offset


def _seconds(value: Any) -> float | None:
    """``value`` as seconds, if it is a JSON number from 0 to LATEST_NOW (an integer
    of 400 digits, which ``float()`` cannot hold, is not)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    if isinstance(value, int) and not 0 <= value <= LATEST_NOW:
        return None
    seconds = float(value)
    return seconds if math.isfinite(seconds) and 0 <= seconds <= LATEST_NOW else None


def expiration_deadline(user: ExpiringUser) -> float | None:
    """When ``user`` expires under its current settings, or None."""
    settings = user.expiration_settings or {}
    days = settings.get("ExpirationDays")
    if settings.get("ExpirationCriterion") != "CREATED_TIMESTAMP" or not isinstance(days, int):
        return None
    return user.created + days * SECONDS_PER_DAY


def expire_users(backend: UsersBackend, clock: ExpirationClock) -> list[str]:
    """Deletes (as DeleteAppInstanceUser does) every user past its deadline."""
    expired = [
        user.arn
        for user in backend.users.values()
        if (deadline := expiration_deadline(user)) is not None
        and deadline <= clock.now(user.app_instance_arn)
    ]
    for arn in expired:
        backend.delete_app_instance_user(arn)
    return expired


def sweep(backends: Iterable[UsersBackend], clock: ExpirationClock) -> list[str]:
    """Every backend's rule ``expire_users`` (a seam faults can wrap), now."""
    clock.last_sweep = clock.real()
    return [arn for backend in backends for arn in backend.expire_users(clock)]


def clock_request(clock: ExpirationClock, method: str, body: bytes) -> dict[str, Any]:
    """``GET``: the clock; ``POST``: move it (see :data:`CLOCK_REQUEST`)."""
    if method == "GET":
        return clock.describe()
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        raise BadRequestException(f"The body is not JSON. {CLOCK_REQUEST}") from None
    clock.move(request)
    scope = request.get("app_instance_arn") if isinstance(request, dict) else None
    return clock.describe(scope)
