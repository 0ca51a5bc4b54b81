"""The end-of-run sweep: nothing this run created stays on the target.

The ledger deletes what it saw created. A create whose answer never arrived
(Ctrl-C or a timeout in flight) left nothing in the ledger but its intent, so
the sweep then looks for the run's resources the way an operator would:
through the List operations, by the run id that starts every name the suite
gives and by the run tag (``chime-conformance-run = <run id>``), and deletes
them children first (endpoints, admins, bots, users, then the AppInstance;
accounts last). What cannot be deleted is returned with its ARN. A second
Ctrl-C stops the sweep, which then says what remains. Every call is bounded
by the client's timeouts and the sweep by a deadline.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from typing import Any

from chime_conformance.run.events import Leftover
from chime_conformance.run.ledger import RUN_TAG_KEY, Ledger
from chime_conformance.wire.client import ChimeClient

__all__ = ["DEFAULT_SWEEP_SECONDS", "sweep"]

DEFAULT_SWEEP_SECONDS = 60.0
MAX_PAGES = 200  # per List walk: a bound, not an expectation


class _OutOfTime(Exception):
    pass


class Sweeper:
    """One sweep of one target for one run id."""

    def __init__(
        self, client: ChimeClient, run_id: str, deadline: float, shard: str | None = None
    ) -> None:
        self.client = client
        self.run_id = run_id
        # A shard shares the run id with the other shards (which may still be
        # running on the same target): it sweeps only names of its own scope
        # ("<run id>-s2gw0-…"), never by the run tag, which they share.
        self.shard = shard
        self.own_name = re.compile(
            re.escape(run_id) + (f"-{re.escape(shard)}(?:main|gw[0-9]+)-" if shard else "")
        )
        self.deadline = deadline
        self.leftovers: list[Leftover] = []
        self.deleted: set[str] = set()

    # -- calls ------------------------------------------------------------------

    def _call(self, operation: str, members: Mapping[str, Any]) -> Any:
        if time.monotonic() > self.deadline:
            raise _OutOfTime
        return self.client.call(operation, dict(members))

    def _walk(self, operation: str, members: Mapping[str, Any], items: str) -> Iterator[Any]:
        token = None
        for _ in range(MAX_PAGES):
            request = {**members, "MaxResults": 50, **({"NextToken": token} if token else {})}
            exchange = self._call(operation, request)
            body = exchange.json if isinstance(exchange.json, dict) else {}
            if not 200 <= exchange.status < 300:
                return
            yield from body.get(items) or []
            token = body.get("NextToken")
            if not token:
                return

    def _delete(self, kind: str, arn: str, operation: str, members: Mapping[str, Any]) -> None:
        try:
            status = self._call(operation, members).status
        except (_OutOfTime, KeyboardInterrupt):
            raise
        except Exception as error:  # report it, and go on with the rest
            self.leftovers.append(Leftover(kind, arn, f"{type(error).__name__}: {error}"))
            return
        if not (200 <= status < 300 or status == 404):
            self.leftovers.append(Leftover(kind, arn, f"{operation} answered {status}"))
        else:
            self.deleted.add(arn)

    # -- what belongs to the run -----------------------------------------------

    def ours(self, arn: str, name: Any) -> bool:
        if isinstance(name, str) and self.own_name.match(name):
            return True
        if self.shard is not None:
            return False
        exchange = self._call("ListTagsForResource", {"ResourceARN": arn})
        tags = exchange.json.get("Tags") if isinstance(exchange.json, dict) else None
        return any(
            isinstance(t, dict) and t.get("Key") == RUN_TAG_KEY and t.get("Value") == self.run_id
            for t in tags or []
        )

    def app_instances(self) -> list[str]:
        found = []
        for item in list(self._walk("ListAppInstances", {}, "AppInstances")):
            arn = item.get("AppInstanceArn") if isinstance(item, dict) else None
            if isinstance(arn, str) and self.ours(arn, item.get("Name")):
                found.append(arn)
        return found

    def accounts(self) -> list[str]:
        found = []
        for item in list(self._walk("ListAccounts", {}, "Accounts")):
            if not isinstance(item, dict):
                continue
            if self.own_name.match(str(item.get("Name", ""))) and item.get("AccountId"):
                found.append(str(item["AccountId"]))
        return found

    # -- deleting, children first ----------------------------------------------

    def delete_app_instance(self, arn: str) -> None:
        instance = {"AppInstanceArn": arn}
        users = [
            u["AppInstanceUserArn"]
            for u in self._walk("ListAppInstanceUsers", instance, "AppInstanceUsers")
            if isinstance(u, dict) and u.get("AppInstanceUserArn")
        ]
        for user in users:
            for endpoint in list(
                self._walk(
                    "ListAppInstanceUserEndpoints",
                    {"AppInstanceUserArn": user},
                    "AppInstanceUserEndpoints",
                )
            ):
                if isinstance(endpoint, dict) and endpoint.get("EndpointId"):
                    members = {"AppInstanceUserArn": user, "EndpointId": endpoint["EndpointId"]}
                    where = f"{user} endpoint {endpoint['EndpointId']}"
                    self._delete("endpoint", where, "DeregisterAppInstanceUserEndpoint", members)
        for admin in list(self._walk("ListAppInstanceAdmins", instance, "AppInstanceAdmins")):
            admin_arn = (admin.get("Admin") or {}).get("Arn") if isinstance(admin, dict) else None
            if admin_arn:
                members = {**instance, "AppInstanceAdminArn": admin_arn}
                self._delete("admin", admin_arn, "DeleteAppInstanceAdmin", members)
        for bot in list(self._walk("ListAppInstanceBots", instance, "AppInstanceBots")):
            if isinstance(bot, dict) and bot.get("AppInstanceBotArn"):
                bot_arn = bot["AppInstanceBotArn"]
                self._delete("bot", bot_arn, "DeleteAppInstanceBot", {"AppInstanceBotArn": bot_arn})
        for user in users:
            self._delete("user", user, "DeleteAppInstanceUser", {"AppInstanceUserArn": user})
        self._delete("app-instance", arn, "DeleteAppInstance", instance)


def sweep(
    client: ChimeClient,
    ledger: Ledger,
    run_id: str,
    *,
    listing: bool = True,
    seconds: float = DEFAULT_SWEEP_SECONDS,
    deleted: set[str] | None = None,
    shard: str | None = None,
) -> list[Leftover]:
    """Delete what this run created on ``client``'s target (the ledger's
    resources, then, with ``listing``, whatever the List operations show of
    the run; with ``shard`` ("s2"), only that shard's names); return what
    could not be deleted. Never raises: a second Ctrl-C or the deadline ends
    it with the rest reported."""
    try:
        leftovers = ledger.clean_up(_deleter(client))
    except KeyboardInterrupt:  # between two deletes: clean_up reports the rest itself
        leftovers = ledger.interrupted()
        listing = False
    if not listing:
        if ledger.pending():
            leftovers.extend(_unknown(ledger, "not looked for (no List sweep here)"))
        return _unique(leftovers)
    sweeper = Sweeper(client, run_id, time.monotonic() + seconds, shard)
    step = "listing AppInstances"
    instances: list[str] = []
    accounts: list[str] = []
    try:
        instances = sweeper.app_instances()
        while instances:
            step = "deleting"
            sweeper.delete_app_instance(instances[0])
            instances.pop(0)
        step = "listing accounts"
        accounts = sweeper.accounts()
        while accounts:
            step = "deleting"
            account = accounts[0]
            sweeper._delete("account", account, "DeleteAccount", {"AccountId": account})
            accounts.pop(0)
    except (KeyboardInterrupt, _OutOfTime) as stop:
        why = (
            "sweep interrupted by Ctrl-C"
            if isinstance(stop, KeyboardInterrupt)
            else (f"sweep out of time after {seconds:g} s")
        )
        leftovers.extend(Leftover("app-instance", arn, why) for arn in instances)
        leftovers.extend(Leftover("account", account, why) for account in accounts)
        if step.startswith("listing"):
            leftovers.extend(_unknown(ledger, f"{why} while {step}"))
    except Exception as error:  # the target answers the List operations badly
        leftovers.extend(_unknown(ledger, f"could not list the run's resources: {error}"))
    leftovers.extend(sweeper.leftovers)
    if deleted is not None:
        deleted.update(sweeper.deleted)
    return _unique(leftovers)


def _deleter(client: ChimeClient) -> Any:
    return lambda operation, members: client.call(operation, members).status


def _unknown(ledger: Ledger, why: str) -> list[Leftover]:
    return [
        Leftover(operation, f"({count} sent, answer never seen)", why)
        for operation, count in ledger.pending().items()
    ]


def _unique(leftovers: list[Leftover]) -> list[Leftover]:
    return list(dict.fromkeys(leftovers))
