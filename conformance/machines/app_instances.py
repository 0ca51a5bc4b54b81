"""AppInstances through random lifecycles: create (replayed, with tags and
metadata or without), update, tag, untag, retention settings, delete."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, consumes, initialize, invariant, precondition, rule

from chime_conformance import checks, strategies

from ..resources import RUN_TAG_KEY
from .harness import Machine, body_of, check, page_sizes, step
from .model import AppInstanceRecord

MAX_TAGS = 50  # per resource (docs/contract.md tags)


def app_instance_names() -> Any:
    return strategies.resource_names(min_size=1, max_size=64)


def optional_metadata() -> Any:
    return st.none() | strategies.metadata(max_size=200)


def extra_tags(*, max_size: int = 5) -> Any:
    """Tags besides the run's own (never its key, which stays on for clean-up)."""
    return strategies.tag_lists(max_size=max_size).map(
        lambda tags: [tag for tag in tags if tag["Key"] != RUN_TAG_KEY]
    )


class AppInstancesMachine(Machine):
    """Predicts every AppInstance this run creates: its fields, tags and
    retention settings, and that it lists once until deleted, then never."""

    app_instances = Bundle("app_instances")

    def __init__(self) -> None:
        super().__init__()
        self.live: dict[str, AppInstanceRecord] = {}
        self.deleted: set[str] = set()
        self.listing_stale = True  # a step since the last walk may change what it shows

    def counted(self, name: str) -> None:
        super().counted(name)
        if name in CHANGES_THE_LISTING:
            self.listing_stale = True

    @initialize(size=page_sizes())
    @step
    def choose_page_size(self, size: int) -> None:
        self.page_size = size

    @rule(size=page_sizes())
    @step
    def change_page_size(self, size: int) -> None:
        self.page_size = size

    # -- create, replay ------------------------------------------------------------

    @rule(
        target=app_instances,
        name=app_instance_names(),
        metadata=optional_metadata(),
        tags=st.none() | extra_tags(),
    )
    @step
    def create(self, name: str, metadata: str | None, tags: list[dict[str, str]] | None) -> str:
        request: dict[str, Any] = {
            "Name": name,
            "ClientRequestToken": self.unique("t"),
            "Tags": [self.run_tag(), *(tags or [])],
        }
        if metadata is not None:
            request["Metadata"] = metadata
        arn = str(self.scenario.ok("CreateAppInstance", request)["AppInstanceArn"])
        self.live[arn] = AppInstanceRecord(
            arn, name, metadata, request, tags={t["Key"]: t["Value"] for t in request["Tags"]}
        )
        return arn

    @rule(app_instance=app_instances)
    @step
    def replay_create(self, app_instance: str) -> None:
        """The same token with the same parameters: the same AppInstance."""
        record = self.live[app_instance]
        replay = self.scenario.call("CreateAppInstance", record.create_request)
        self.expect(
            replay,
            body_of(replay, "AppInstanceArn") == app_instance,
            check=checks.IDEMPOTENCY,
            fact="CreateAppInstance replayed with its ClientRequestToken and parameters "
            "returns the same AppInstance (docs/contract.md idempotency)",
            received=body_of(replay, "AppInstanceArn"),
            documented=app_instance,
        )

    @rule(app_instance=app_instances, name=app_instance_names())
    @step
    def replay_create_with_other_parameters(self, app_instance: str, name: str) -> None:
        record = self.live[app_instance]
        other = name if name != record.create_request["Name"] else name + "-other"
        self.conflict(
            "CreateAppInstance",
            {**record.create_request, "Name": other},
            check=checks.IDEMPOTENCY,
            fact="the same ClientRequestToken with other parameters is refused "
            "(docs/contract.md idempotency: 409 ConflictException)",
        )

    # -- update, settings, delete -----------------------------------------------------

    @rule(
        app_instance=app_instances,
        name=app_instance_names(),
        metadata=strategies.metadata(max_size=200),
    )
    @step
    def update(self, app_instance: str, name: str, metadata: str) -> None:
        members = {"AppInstanceArn": app_instance, "Name": name, "Metadata": metadata}
        self.scenario.ok("UpdateAppInstance", members)
        record = self.live[app_instance]
        record.name, record.metadata = name, metadata

    @rule(app_instance=app_instances, settings=strategies.retention_settings())
    @step
    def put_retention_settings(self, app_instance: str, settings: dict[str, Any]) -> None:
        members = {"AppInstanceArn": app_instance, "AppInstanceRetentionSettings": settings}
        self.scenario.ok("PutAppInstanceRetentionSettings", members)
        self.live[app_instance].retention = settings

    @rule(app_instance=consumes(app_instances))
    @step
    def delete(self, app_instance: str) -> None:
        self.scenario.ok("DeleteAppInstance", {"AppInstanceArn": app_instance})
        self.gone_within_bound(
            "DescribeAppInstance",
            {"AppInstanceArn": app_instance},
            check=checks.DELETE_IS_FINAL,
            what="a deleted AppInstance",
        )
        del self.live[app_instance]
        self.deleted.add(app_instance)

    # -- tags -------------------------------------------------------------------------

    @rule(app_instance=app_instances, tags=extra_tags(max_size=8))
    @step
    def tag(self, app_instance: str, tags: list[dict[str, str]]) -> None:
        """TagResource merges (a key already there takes the new value), up to 50."""
        if not tags:
            return
        record = self.live[app_instance]
        merged = {**record.tags, **{t["Key"]: t["Value"] for t in tags}}
        members = {"ResourceARN": app_instance, "Tags": tags}
        if len(merged) > MAX_TAGS:
            self.refused("TagResource", members, check=checks.TAG_LIMIT, fact=_TAG_LIMIT)
            return
        self.scenario.ok("TagResource", members)
        record.tags = merged

    @rule(app_instance=app_instances)
    @step
    def tag_past_the_limit(self, app_instance: str) -> None:
        """Fill the tags up to 50, then one more is refused and changes nothing."""
        record = self.live[app_instance]
        fill = [{"Key": self.unique("k"), "Value": "v"} for _ in range(MAX_TAGS - len(record.tags))]
        if fill:
            self.scenario.ok("TagResource", {"ResourceARN": app_instance, "Tags": fill})
            record.tags.update({t["Key"]: t["Value"] for t in fill})
        one_more = [{"Key": self.unique("over"), "Value": "v"}]
        self.refused(
            "TagResource",
            {"ResourceARN": app_instance, "Tags": one_more},
            check=checks.TAG_LIMIT,
            fact=_TAG_LIMIT,
        )

    @rule(
        app_instance=app_instances,
        picks=st.lists(st.integers(0, MAX_TAGS - 1), unique=True, max_size=4),
        unknown=st.lists(strategies.tag_keys(), max_size=2),
    )
    @step
    def untag(self, app_instance: str, picks: list[int], unknown: list[str]) -> None:
        """UntagResource removes the keys given (``picks`` index the keys it
        has); unknown keys change nothing."""
        record = self.live[app_instance]
        ours = sorted(key for key in record.tags if key != RUN_TAG_KEY)
        known = [ours[i % len(ours)] for i in picks] if ours else []
        keys = list(dict.fromkeys(k for k in [*known, *unknown] if k != RUN_TAG_KEY))
        if not keys:
            return
        self.scenario.ok("UntagResource", {"ResourceARN": app_instance, "TagKeys": keys})
        for key in keys:
            record.tags.pop(key, None)

    # -- invariants -------------------------------------------------------------------

    @invariant()
    @check
    def app_instances_describe_as_modelled(self) -> None:
        for arn, record in self.live.items():
            described = self.scenario.call("DescribeAppInstance", {"AppInstanceArn": arn})
            instance = body_of(described, "AppInstance") or {}
            self.matches(described, instance, record.describes_as(), what="AppInstance")
            self.timestamps_move_forward(described, instance, record.seen, what="AppInstance")

    @invariant()
    @check
    def tags_read_back_as_modelled(self) -> None:
        for arn, record in self.live.items():
            listed = self.scenario.call("ListTagsForResource", {"ResourceARN": arn})
            tags = {t.get("Key"): t.get("Value") for t in body_of(listed, "Tags") or []}
            self.expect(
                listed,
                tags == record.tags,
                check=checks.TAGS_READ_BACK,
                fact="tags given at create time are stored; TagResource merges; "
                "UntagResource removes (docs/contract.md tags)",
                received=_tag_difference(tags, record.tags),
                documented=f"{len(record.tags)} tags as written",
            )

    @precondition(lambda self: any(r.retention for r in self.live.values()))
    @invariant()
    @check
    def retention_settings_read_back(self) -> None:
        """Every live AppInstance's settings, those never put too (none: a Put
        on one AppInstance must not show on another)."""
        for arn, record in self.live.items():
            got = self.scenario.call("GetAppInstanceRetentionSettings", {"AppInstanceArn": arn})
            settings = body_of(got, "AppInstanceRetentionSettings")
            self.expect(
                got,
                settings == record.retention
                if record.retention is not None
                else settings in (None, {}),
                check=checks.SETTINGS_READ_BACK,
                fact="GetAppInstanceRetentionSettings returns what was put (docs/contract.md settings)",
                received=body_of(got, "AppInstanceRetentionSettings"),
                documented=record.retention,
            )

    @precondition(lambda self: self.listing_stale)
    @invariant()
    @check
    def listing_shows_each_live_app_instance_once(self) -> None:
        """The account-wide List, walked after every step that may change what it
        shows (a create, replay, update or delete, a new page size): it is a fifth
        of a run's requests, and a tag or settings write cannot change it without
        also changing what the other invariants read after every step."""
        self.listing_stale = False
        listed = self.walk(
            "ListAppInstances",
            {},
            "AppInstances",
            lambda item: item.get("AppInstanceArn"),
            expected=self.live,
            gone=frozenset(self.deleted),
            owned=False,
        )
        for arn, item in listed.items():
            if arn in self.live:
                wanted = self.live[arn].describes_as()
                self.matches(self.log.exchanges[-1], item, wanted, what="ListAppInstances item")

    @precondition(lambda self: bool(self.deleted))
    @invariant()
    @check
    def deleted_app_instances_stay_unreadable(self) -> None:
        for arn in sorted(self.deleted):
            self.missing(
                "DescribeAppInstance",
                {"AppInstanceArn": arn},
                check=checks.DELETE_IS_FINAL,
                what="a deleted AppInstance",
            )

    def leftovers(self) -> list[tuple[str, dict[str, Any]]]:
        return [("DeleteAppInstance", {"AppInstanceArn": arn}) for arn in self.live]


# The rules after which ListAppInstances may show something else (the others
# write tags and settings, which it does not show).
CHANGES_THE_LISTING = frozenset(
    {
        "choose_page_size",
        "change_page_size",
        "create",
        "replay_create",
        "replay_create_with_other_parameters",
        "update",
        "delete",
    }
)

_TAG_LIMIT = (
    "a resource holds at most 50 tags (docs/contract.md tags: ResourceLimitExceededException)"
)


def _tag_difference(got: dict[Any, Any], wanted: dict[str, str]) -> str:
    missing = sorted(set(wanted) - set(got))
    extra = sorted(set(got) - set(wanted))
    changed = sorted(k for k in set(got) & set(wanted) if got[k] != wanted[k])
    return f"missing {missing}, unexpected {extra}, other values {changed}"
