"""ARN format: resources named outside the documented ARN patterns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chime_conformance.emulator.app import EmulatorApp
from chime_conformance.emulator.faults.registry import fault
from chime_conformance.emulator.models import IdentityBackend


@fault(
    "arns_in_another_region",
    category="ARN format",
    breaks="Every returned ARN names the region the request was signed for (docs/contract.md arns); "
    "here the emulator mints them in another region.",
)
def _arns_in_another_region(app: EmulatorApp) -> None:
    def wrapper(backend: IdentityBackend, original: Callable[..., Any]) -> Callable[..., Any]:
        other = "eu-west-1" if backend.region != "eu-west-1" else "us-east-1"
        return lambda resource: f"arn:aws:chime:{other}:{backend.account_id}:{resource}"

    app.backend.wrap_rule(IdentityBackend, "mint_arn", wrapper)


@fault(
    "bot_arns_of_unknown_kind",
    category="ARN format",
    breaks="A bot's ARN is …:app-instance/{uuid}/bot/{uuid} (docs/contract.md arns); here …/bots/{uuid}.",
)
def _bot_arns_of_unknown_kind(app: EmulatorApp) -> None:
    def wrapper(backend: IdentityBackend, original: Callable[..., Any]) -> Callable[..., Any]:
        def create(*args: Any) -> Any:
            bot = original(*args)
            if "/bot/" in bot.arn:  # re-key it under the wrong ARN, consistently
                old, bot.arn = bot.arn, bot.arn.replace("/bot/", "/bots/")
                backend.bots[bot.arn] = backend.bots.pop(old)
                for record in backend.idempotency.values():
                    if record.result == old:
                        record.result = bot.arn
            return bot

        return create

    app.backend.wrap_rule(IdentityBackend, "create_app_instance_bot", wrapper)
