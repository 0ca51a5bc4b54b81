"""Promises shared by whole classes of operations, each broken on one operation
the older tests never asked about: a read answering with another resource's
settings, a list that keeps a deleted member, a NextToken ignored, a token
ignored, a written member dropped, an answer that is not the current state, a
read served from a cache after a cascade, an answer without a request id, a
refused write of another account applied all the same."""

from __future__ import annotations

import contextlib
import copy
import uuid
from typing import Any

from chime_conformance.emulator.app import EmulatorApp
from chime_conformance.emulator.exceptions import ChimeError, ForbiddenException
from chime_conformance.emulator.faults.registry import fault
from chime_conformance.emulator.hooks import Authorize, Handler, RequestId
from chime_conformance.emulator.iam import Identity, chime_arns
from chime_conformance.emulator.models import IdentityBackend


@fault(
    "retention_settings_of_the_last_put",
    category="isolation",
    breaks="GetAppInstanceRetentionSettings answers the settings of the AppInstance it names "
    "(docs/contract.md isolation); here it answers those put last on any AppInstance.",
)
def _retention_settings_of_the_last_put(app: EmulatorApp) -> None:
    last: dict[str, Any] = {}

    def remember(original: Handler) -> Handler:
        def handle(backend: Any, members: dict[str, Any]) -> Any:
            body = original(backend, members)
            last["body"] = copy.deepcopy(body)
            return body

        return handle

    def answer_last(original: Handler) -> Handler:
        def handle(backend: Any, members: dict[str, Any]) -> Any:
            body = original(backend, members)  # a missing AppInstance is still a 404
            return copy.deepcopy(last.get("body", body))

        return handle

    app.hooks.wrap_handler("PutAppInstanceRetentionSettings", remember)
    app.hooks.wrap_handler("GetAppInstanceRetentionSettings", answer_last)


@fault(
    "deleted_bots_stay_listed",
    category="delete and cascade",
    breaks="A deleted AppInstanceBot is not listed under its AppInstance any more "
    "(docs/contract.md list-consistency); here ListAppInstanceBots keeps listing it.",
)
def _deleted_bots_stay_listed(app: EmulatorApp) -> None:
    deleted: dict[str, dict[str, Any]] = {}  # bot ARN -> its summary, as listed

    def remember(original: Handler) -> Handler:
        def handle(backend: IdentityBackend, members: dict[str, Any]) -> Any:
            bot = backend.bot(members["AppInstanceBotArn"])
            summary = (bot.app_instance_arn, bot.summary())
            original(backend, members)
            deleted[bot.arn] = {"instance": summary[0], "summary": summary[1]}
            return None

        return handle

    def keep_listing(original: Handler) -> Handler:
        def handle(backend: Any, members: dict[str, Any]) -> Any:
            body = copy.deepcopy(original(backend, members))
            if not body.get("NextToken"):  # the last page: the ghosts go at its end
                body["AppInstanceBots"] = [
                    *body.get("AppInstanceBots", []),
                    *(
                        ghost["summary"]
                        for ghost in deleted.values()
                        if ghost["instance"] == members["AppInstanceArn"]
                    ),
                ]
            return body

        return handle

    app.hooks.wrap_handler("DeleteAppInstanceBot", remember)
    app.hooks.wrap_handler("ListAppInstanceBots", keep_listing)


@fault(
    "bot_pages_restart",
    category="pagination",
    breaks="Following NextToken visits every item exactly once (docs/contract.md pagination); "
    "here ListAppInstanceBots ignores NextToken and answers its first page again.",
)
def _bot_pages_restart(app: EmulatorApp) -> None:
    def wrapper(original: Handler) -> Handler:
        def handle(backend: Any, members: dict[str, Any]) -> Any:
            return original(backend, {k: v for k, v in members.items() if k != "NextToken"})

        return handle

    app.hooks.wrap_handler("ListAppInstanceBots", wrapper)


@fault(
    "bot_token_ignored",
    category="idempotency",
    breaks="CreateAppInstanceBot repeated with its ClientRequestToken returns the same bot "
    "(docs/contract.md idempotency); here every request creates another bot.",
)
def _bot_token_ignored(app: EmulatorApp) -> None:
    def wrapper(original: Handler) -> Handler:
        def handle(backend: Any, members: dict[str, Any]) -> Any:
            return original(backend, {**members, "ClientRequestToken": uuid.uuid4().hex})

        return handle

    app.hooks.wrap_handler("CreateAppInstanceBot", wrapper)


@fault(
    "user_create_tags_dropped",
    category="read-after-write",
    breaks="Every member CreateAppInstanceUser writes reads back, its Tags through "
    "ListTagsForResource (docs/contract.md read-after-write); here the user's tags are dropped.",
)
def _user_create_tags_dropped(app: EmulatorApp) -> None:
    def wrapper(original: Handler) -> Handler:
        def handle(backend: Any, members: dict[str, Any]) -> Any:
            return original(backend, {k: v for k, v in members.items() if k != "Tags"})

        return handle

    app.hooks.wrap_handler("CreateAppInstanceUser", wrapper)


@fault(
    "update_account_answers_the_old_account",
    category="accounts",
    breaks="UpdateAccount answers with the account as it now is (docs/contract.md "
    "answer-is-current); here it answers with the account as it was before the update.",
)
def _update_account_answers_the_old_account(app: EmulatorApp) -> None:
    def wrapper(original: Handler) -> Handler:
        def handle(backend: Any, members: dict[str, Any]) -> Any:
            before = backend.account(members["AccountId"]).describe()
            original(backend, members)
            return {"Account": before}

        return handle

    app.hooks.wrap_handler("UpdateAccount", wrapper)


@fault(
    "bot_reads_cached_past_cascade",
    category="delete and cascade",
    breaks="A bot of a deleted AppInstance is unreadable (docs/contract.md cascade); here "
    "DescribeAppInstanceBot serves a cached answer, forgotten on the bot's own update or "
    "delete but not on its AppInstance's.",
)
def _bot_reads_cached_past_cascade(app: EmulatorApp) -> None:
    cache: dict[str, Any] = {}

    def cached(original: Handler) -> Handler:
        def handle(backend: Any, members: dict[str, Any]) -> Any:
            arn = members["AppInstanceBotArn"]
            if arn not in cache:
                cache[arn] = original(backend, members)
            return copy.deepcopy(cache[arn])

        return handle

    def forgetting(original: Handler) -> Handler:
        def handle(backend: Any, members: dict[str, Any]) -> Any:
            cache.pop(members["AppInstanceBotArn"], None)
            return original(backend, members)

        return handle

    app.hooks.wrap_handler("DescribeAppInstanceBot", cached)
    for operation in ("UpdateAppInstanceBot", "DeleteAppInstanceBot"):
        app.hooks.wrap_handler(operation, forgetting)


@fault(
    "request_id_missing_on_errors",
    category="protocol",
    breaks="Every answer, success or error, carries x-amzn-RequestId (docs/contract.md "
    "request-id); here the API's error answers carry none.",
)
def _request_id_missing_on_errors(app: EmulatorApp) -> None:
    def wrapper(original: RequestId) -> RequestId:
        def request_id(exchange: Any, answer: Any) -> str | None:
            if answer.status >= 400 and not exchange.raw_path.startswith("/_emulator/"):
                return None
            return original(exchange, answer)

        return request_id

    app.hooks.wrap_request_id(wrapper)


@fault(
    "other_account_writes_applied",
    category="isolation",
    breaks="A request of another AWS account's identity naming a resource is refused and "
    "changes nothing (docs/contract.md tenant-isolation); here a refused write is applied in "
    "the resource's account before the 403 is answered.",
)
def _other_account_writes_applied(app: EmulatorApp) -> None:
    def wrapper(original: Authorize) -> Authorize:
        def authorize(caller: Identity, operation: Any, members: dict[str, Any]) -> Identity:
            try:
                return original(caller, operation, members)
            except ForbiddenException:
                if operation.method != "GET":
                    owners = {account for _, _, account in chime_arns(members)}
                    for owner in app.config.all_identities:
                        if owner.account_id in owners:
                            with contextlib.suppress(ChimeError):
                                app.hooks.dispatch(operation, members, owner)
                            break
                raise

        return authorize

    app.hooks.wrap_authorize(wrapper)
