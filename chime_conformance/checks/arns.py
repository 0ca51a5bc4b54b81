"""ARNs (docs/contract.md arns): every Chime ARN an answer returns matches
ChimeArn, names the target's account and region, and the kind of resource its
member is about."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from chime_conformance.checks.answers import is_success, walk_json
from chime_conformance.checks.registry import CheckContext, Expectation, check, fail
from chime_conformance.contract import resources, spec
from chime_conformance.wire.exchange import Exchange

# botocore's ChimeArn, used if the spec document does not (yet) define one.
FALLBACK_CHIME_ARN = (
    r"^arn:[a-z0-9-\.]{1,63}:[a-z0-9-\.]{0,63}:[a-z0-9-\.]{0,63}:[a-z0-9-\.]{0,63}:[^/].{0,1023}$"
)
# Response members holding Chime ARNs, and the resource kinds each may name
# (the resource catalogue's; "Arn" is an Identity's: a user or a bot).
ARN_KINDS: Mapping[str, frozenset[str]] = resources.arn_members()
# Not here: an endpoint's ResourceArn names the Amazon Pinpoint application it
# delivers through (arn:aws:mobiletargeting:…), and a bot's LexBotAliasArn a
# Lex alias; neither is a Chime resource.
_ARN = re.compile(
    r"^arn:(?P<partition>[^:]+):(?P<service>[^:]*):(?P<region>[^:]*):(?P<account>[^:]*):"
    r"(?P<resource>.+)$",
    re.DOTALL,
)
# An ARN's resource part: an AppInstance, or one of the kinds with an ARN in it
# (the catalogue's shapes: "app-instance/{id}", "…/user/{AppInstanceUserId}", "…/bot/{id}").
_ROOT = resources.kind("app-instance")
_CHILDREN = {
    (k.arn or "").partition("/")[0]: k
    for k in resources.KINDS.values()
    if k.parent == _ROOT.name and k.arn
}
_RESOURCE = re.compile(
    rf"^{re.escape((_ROOT.arn or '').partition('{')[0])}(?P<instance>[^/]+)"
    rf"(?:/(?P<child>{'|'.join(map(re.escape, _CHILDREN))})/(?P<child_id>[^/]+))?$",
    re.DOTALL,
)


@check(rule="arns")
def arns_match_pattern(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """Every returned Chime ARN matches ChimeArn, names this account and region,
    and the kind of resource its member is about."""
    if not is_success(exchange):
        return False
    arns = [
        (path, key, value) for path, key, value, _ in walk_json(exchange.json) if key in ARN_KINDS
    ]
    for path, key, value in arns:
        _check_arn(ctx, path, key, value)
    return bool(arns)


def _chime_arn_pattern(api: str) -> str:
    schemas = spec.load_document(api).get("components", {}).get("schemas", {})
    pattern: str = schemas.get("ChimeArn", {}).get("pattern", FALLBACK_CHIME_ARN)
    return pattern


def _check_arn(ctx: CheckContext, path: str, key: str, value: Any) -> None:
    fact = f"{path} is a ChimeArn (spec components/schemas/ChimeArn; docs/contract.md arns)"
    pattern = _chime_arn_pattern(ctx.operation.api)
    if not isinstance(value, str) or not spec.pattern_matches(pattern, value):
        raise fail(ctx, fact, repr(value), f"a string matching {pattern}")
    parts = _ARN.match(value)
    if parts is None:
        raise fail(ctx, fact, repr(value), "arn:partition:service:region:account:resource")
    expected = {"service": "chime", "region": ctx.region, "account": ctx.account_id}
    for part, wanted in expected.items():
        if wanted is not None and parts[part] != wanted:
            raise fail(ctx, fact, f"{value} ({part} {parts[part]!r})", f"{part} {wanted!r}")
    _check_arn_resource(ctx, fact, key, value, parts["resource"])


def _check_arn_resource(ctx: CheckContext, fact: str, key: str, arn: str, resource: str) -> None:
    kinds = ARN_KINDS[key]
    shape = " or ".join(sorted(_RESOURCE_SHAPES[k] for k in kinds))
    match = _RESOURCE.match(resource)
    kind = (_CHILDREN[match["child"]].name if match["child"] else _ROOT.name) if match else None
    if match is None or kind not in kinds:
        raise fail(ctx, fact, arn, f"a {key} ending in {shape}")
    if ctx.strict and not _ids_are_uuids(match):
        raise fail(ctx, fact, arn, "app-instance and bot ids are UUIDs")
    parent = ctx.members.get("AppInstanceArn")
    if kind != "app-instance" and isinstance(parent, str) and not arn.startswith(parent + "/"):
        raise fail(ctx, fact, arn, f"a {kind} of the requested AppInstance {parent}")
    user_id = ctx.members.get("AppInstanceUserId")
    if key == "AppInstanceUserArn" and isinstance(user_id, str) and match["child_id"] != user_id:
        raise fail(ctx, fact, arn, f"the ARN of the requested AppInstanceUserId {user_id!r}")


_RESOURCE_SHAPES = {k.name: k.resource_shape for k in (_ROOT, *_CHILDREN.values())}


def _ids_are_uuids(match: re.Match[str]) -> bool:
    # the ids the service issues (an AppInstance's, a bot's), not the caller's (a user's)
    child = _CHILDREN[match["child"]] if match["child"] else None
    issued = child is not None and child.arn_id == "uuid"
    ids = [match["instance"]] + ([match["child_id"]] if issued else [])
    try:
        for value in ids:
            uuid.UUID(value)
    except ValueError:
        return False
    return True
