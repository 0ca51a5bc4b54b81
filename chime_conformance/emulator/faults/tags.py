"""Tags: TagResource, UntagResource and the 50-tag limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chime_conformance.emulator.app import EmulatorApp
from chime_conformance.emulator.exceptions import ResourceLimitExceededException
from chime_conformance.emulator.faults.registry import fault
from chime_conformance.emulator.models import IdentityBackend


@fault(
    "tag_resource_replaces_tags",
    category="tags",
    breaks="TagResource merges: other keys stay, the same key overwrites (docs/contract.md tags); "
    "here it replaces all tags.",
)
def _tag_resource_replaces_tags(app: EmulatorApp) -> None:
    def wrapper(backend: IdentityBackend, original: Callable[..., Any]) -> Callable[..., Any]:
        def tag(arn: str, tags: list[dict[str, str]]) -> None:
            backend.taggable(arn).tags.clear()
            original(arn, tags)

        return tag

    app.backend.wrap_rule(IdentityBackend, "tag_resource", wrapper)


@fault(
    "create_tags_dropped",
    category="tags",
    breaks="Tags given to CreateAppInstance are stored (docs/contract.md tags); here they are dropped.",
)
def _create_tags_dropped(app: EmulatorApp) -> None:
    app.backend.wrap_rule(
        IdentityBackend,
        "create_app_instance",
        lambda backend, original: (
            lambda name, metadata, token, tags: original(name, metadata, token, [])
        ),
    )


@fault(
    "untag_ignored",
    category="tags",
    breaks="UntagResource removes the keys (docs/contract.md tags); here it answers 204 and keeps them.",
)
def _untag_ignored(app: EmulatorApp) -> None:
    app.backend.wrap_rule(
        IdentityBackend,
        "untag_resource",
        lambda backend, original: lambda arn, keys: backend.taggable(arn) and None,
    )


@fault(
    "tag_limit_unenforced",
    category="tags",
    breaks="A resource holds at most 50 tags (docs/contract.md tags); here a 51st is accepted.",
)
def _tag_limit_unenforced(app: EmulatorApp) -> None:
    def wrapper(backend: IdentityBackend, original: Callable[..., Any]) -> Callable[..., Any]:
        def merge(tags: dict[str, str], new_tags: list[dict[str, str]]) -> None:
            try:
                original(tags, new_tags)
            except ResourceLimitExceededException:
                tags.update({tag["Key"]: tag["Value"] for tag in new_tags})

        return merge

    app.backend.wrap_rule(IdentityBackend, "merge_tags", wrapper)
