"""Requests that overlap, through random lifecycles: the contract's rules when
several requests reach the target at once.

Every step of this machine but the first two sends its requests together,
from threads (``Scenario.together``), and judges their combined outcome
against the outcomes the model allows for some order of them
(``chime_conformance.checks.overlap``); the invariants then compare the whole
model with the target after every step (every AppInstance's users and tags), so
a lost write, a second resource or a leftover that the answers hid shows in the
next read. A delete's result is read within the deletion window by the step
that made it; that it stays deleted is the other machines' subject.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, consumes, initialize, invariant, rule

from chime_conformance import checks, strategies
from chime_conformance.checks import overlap

from .harness import Machine, body_of, check, step
from .model import UserRecord

OVERLAPPING = 2  # requests a step sends at once: two are enough to race
CREATE_AHEAD = 0.03  # seconds a create leaves ahead of its AppInstance's delete
MAX_TAGS = 50  # per resource (docs/contract.md tags)


def user_names() -> Any:
    return strategies.user_names(max_size=40)


class OverlapsMachine(Machine):
    """Two AppInstances or more, their users and their tags, written by
    overlapping requests: creates of one user id, replays of one token,
    TagResource calls with different keys, deletes of one user, and a user
    created while its AppInstance is deleted."""

    app_instances = Bundle("app_instances")
    users = Bundle("users")

    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, dict[str, str]] = {}  # live AppInstance -> its tags
        self.users_live: dict[str, UserRecord] = {}
        self.page_size = 50  # pagination is another machine's subject: one page a list

    def _missing(self) -> frozenset[int]:
        return checks.missing_resource_statuses(self.context.strict)

    # -- AppInstances ------------------------------------------------------------------

    @initialize(target=app_instances)
    @step
    def first_app_instance(self) -> str:
        return self._new_app_instance(self.unique("app"))

    @initialize(target=app_instances)
    @step
    def second_app_instance(self) -> str:
        return self._new_app_instance(self.unique("app"))

    def _new_app_instance(self, name: str) -> str:
        request = {"Name": name, "ClientRequestToken": self.unique("t"), "Tags": [self.run_tag()]}
        arn = str(self.scenario.ok("CreateAppInstance", request)["AppInstanceArn"])
        self.tags[arn] = {t["Key"]: t["Value"] for t in request["Tags"]}
        return arn

    @rule(name=strategies.resource_names(min_size=1, max_size=64))
    @step
    def create_app_instance_concurrently(self, name: str) -> None:
        """Overlapping creates with one new ClientRequestToken and one input:
        every one succeeds, naming one AppInstance, which reads back and is
        deleted again (the machine's own AppInstances stay few)."""
        request = {"Name": name, "ClientRequestToken": self.unique("t"), "Tags": [self.run_tag()]}
        exchanges = self.scenario.together([("CreateAppInstance", request)] * OVERLAPPING)
        arns = [body_of(e, "AppInstanceArn") for e in exchanges]
        self.judged(
            exchanges[0],
            overlap.judge_overlapping_replays(exchanges, arns, success=201, what="AppInstance"),
        )
        members = {"AppInstanceArn": str(arns[0])}
        described = self.scenario.call("DescribeAppInstance", members)
        self.matches(
            described, body_of(described, "AppInstance") or {}, {"Name": name}, what="AppInstance"
        )
        self.scenario.ok("DeleteAppInstance", members)
        what = "an AppInstance made by overlapping creates"
        self.gone_within_bound(
            "DescribeAppInstance", members, check=checks.DELETE_IS_FINAL, what=what
        )

    @rule(app_instance=app_instances)
    @step
    def tag_concurrently(self, app_instance: str) -> None:
        """Overlapping TagResource calls with different keys: every key stays."""
        tags = self.tags[app_instance]
        if len(tags) + OVERLAPPING > MAX_TAGS:
            return
        sent = {self.unique("k"): self.unique("v") for _ in range(OVERLAPPING)}
        exchanges = self.scenario.together(
            [
                ("TagResource", {"ResourceARN": app_instance, "Tags": [{"Key": k, "Value": v}]})
                for k, v in sent.items()
            ]
        )
        listed = self.scenario.call("ListTagsForResource", {"ResourceARN": app_instance})
        found = {t.get("Key"): t.get("Value") for t in body_of(listed, "Tags") or []}
        self.judged(exchanges[0], overlap.judge_overlapping_tags(exchanges, sent, found))
        tags.update(sent)

    @rule(app_instance=consumes(app_instances), name=user_names())
    @step
    def create_user_while_deleting_app_instance(self, app_instance: str, name: str) -> None:
        """A user created while its AppInstance is deleted is created or refused
        and never outlives the AppInstance; its other users go with it."""
        for arn, user in self.users_live.items():  # read before the cascade
            if user.app_instance_arn == app_instance:
                self._describes(arn, user)
        user_id = self.unique("late")
        request = {
            "AppInstanceArn": app_instance,
            "AppInstanceUserId": user_id,
            "Name": name,
            "ClientRequestToken": self.unique("t"),
        }
        create, delete = self.scenario.together(
            [
                ("CreateAppInstanceUser", request),
                ("DeleteAppInstance", {"AppInstanceArn": app_instance}),
            ],
            verify=False,  # who wins is the race: only the judgement is recorded
            stagger=CREATE_AHEAD,  # the delete while the create is under way
        )
        late = {"AppInstanceUserArn": f"{app_instance}/user/{user_id}"}
        created = 200 <= create.status < 300
        child = self.poll_until_missing("DescribeAppInstanceUser", late) if created else None
        self.judged(
            create,
            overlap.judge_create_during_delete(create, delete, child, missing=self._missing()),
        )
        del self.tags[app_instance]
        cascade = [
            ("DescribeAppInstance", {"AppInstanceArn": app_instance}, "a deleted AppInstance")
        ]
        for arn in [a for a, u in self.users_live.items() if u.app_instance_arn == app_instance]:
            del self.users_live[arn]
            cascade.append(
                (
                    "DescribeAppInstanceUser",
                    {"AppInstanceUserArn": arn},
                    "a user of a deleted AppInstance",
                )
            )
        for operation, members, what in cascade:
            self.gone_within_bound(operation, members, check=checks.CASCADE, what=what)

    # -- users -------------------------------------------------------------------------

    @rule(
        target=users,
        app_instance=app_instances,
        names=st.lists(user_names(), min_size=OVERLAPPING, max_size=OVERLAPPING),
    )
    @step
    def create_user_concurrently(self, app_instance: str, names: list[str]) -> str:
        """Overlapping creates of one AppInstanceUserId: one 201, the others 409,
        and the user is the one whose create succeeded."""
        user_id = self.unique("user")
        requests = [
            {
                "AppInstanceArn": app_instance,
                "AppInstanceUserId": user_id,
                "Name": name,
                "ClientRequestToken": self.unique("t"),
            }
            for name in names
        ]
        exchanges = self.scenario.together([("CreateAppInstanceUser", r) for r in requests])
        self.judged(
            exchanges[0],
            overlap.judge_overlapping_creates(exchanges, success=201, what="AppInstanceUserId"),
        )
        winner = next(r for r, e in zip(requests, exchanges, strict=True) if e.status == 201)
        arn = f"{app_instance}/user/{user_id}"
        self.users_live[arn] = UserRecord(arn, app_instance, user_id, winner["Name"], None, None)
        return arn

    @rule(user=consumes(users))
    @step
    def delete_user_concurrently(self, user: str) -> None:
        """Overlapping deletes of one user: one succeeds, the others report it
        missing (lenient: several may succeed); it is gone afterwards."""
        members = {"AppInstanceUserArn": user}
        if self.users_live.pop(user, None) is None:  # went with its AppInstance
            self.missing(
                "DeleteAppInstanceUser",
                members,
                check=checks.DELETE_IS_FINAL,
                what="a deleted user",
            )
            return
        exchanges = self.scenario.together([("DeleteAppInstanceUser", members)] * OVERLAPPING)
        self.judged(
            exchanges[0],
            overlap.judge_overlapping_deletes(
                exchanges, missing=self._missing(), strict=self.context.strict
            ),
        )
        what = "a user deleted by overlapping deletes"
        self.gone_within_bound(
            "DescribeAppInstanceUser", members, check=checks.DELETE_IS_FINAL, what=what
        )

    # -- invariants: the whole model, after every step ---------------------------------

    def _describes(self, arn: str, user: UserRecord) -> None:
        described = self.scenario.call("DescribeAppInstanceUser", {"AppInstanceUserArn": arn})
        actual = body_of(described, "AppInstanceUser") or {}
        self.matches(described, actual, user.describes_as(), what="AppInstanceUser")

    @invariant()
    @check
    def each_app_instance_lists_exactly_its_users_as_modelled(self) -> None:
        """No user lost, none twice, none left over from a delete, none in another
        AppInstance, each with the name of the create that succeeded."""
        for app_instance in self.tags:
            users = {a: u for a, u in self.users_live.items() if u.app_instance_arn == app_instance}
            listed = self.walk(
                "ListAppInstanceUsers",
                {"AppInstanceArn": app_instance},
                "AppInstanceUsers",
                lambda item: item.get("AppInstanceUserArn"),
                expected=users,
            )
            for arn, item in listed.items():
                if arn in users:
                    what = "ListAppInstanceUsers item"
                    self.matches(self.log.exchanges[-1], item, users[arn].lists_as(), what=what)

    @invariant()
    @check
    def tags_read_back_as_modelled(self) -> None:
        for arn, tags in self.tags.items():
            listed = self.scenario.call("ListTagsForResource", {"ResourceARN": arn})
            found = {t.get("Key"): t.get("Value") for t in body_of(listed, "Tags") or []}
            self.expect(
                listed,
                found == tags,
                check=checks.TAGS_READ_BACK,
                fact="tags given at create time are stored; TagResource merges (docs/contract.md tags)",
                received=f"missing {sorted(set(tags) - set(found))}, "
                f"unexpected {sorted(set(found) - set(tags))}",
                documented=f"{len(tags)} tags as written",
            )

    def leftovers(self) -> list[tuple[str, dict[str, Any]]]:
        return [("DeleteAppInstance", {"AppInstanceArn": arn}) for arn in self.tags]
