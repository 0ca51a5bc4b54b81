"""Valid values for any schema of the spec: :func:`values_for`."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from chime_conformance.contract import constraints as catalogue
from chime_conformance.contract import resources, spec
from chime_conformance.strategies._internal import kinds
from chime_conformance.strategies._internal.patterns import ANY_CHARACTER, strings_matching

# The member names whose values need hand-written realism, by last path step.
KIND_BY_MEMBER: Mapping[str, Callable[[], Any]] = {
    # members that name a resource (the resource catalogue's)
    **{
        member: functools.partial(kinds.resource_identifiers, member)
        for member in resources.naming_members()
    },
    "ResourceArn": kinds.endpoint_resource_arns,
    "AppInstanceUserId": kinds.app_instance_user_ids,
    "ClientRequestToken": kinds.client_request_tokens,
    "Tags": kinds.tag_lists,
    "TagKeys": kinds.tag_key_lists,
    "LexBotAliasArn": kinds.lex_bot_alias_arns,
    "LocaleId": kinds.lex_locale_ids,
    "WelcomeIntent": kinds.lex_intent_names,
    "DeviceToken": kinds.device_tokens,
    "VoipDeviceToken": kinds.device_tokens,
    "UserEmail": kinds.email_addresses,
}


def values_for(schema: Mapping[str, Any], *, member: str | None = None) -> Any:
    """Values that satisfy ``schema``, honouring ``type``, ``minLength`` and
    ``maxLength`` (in characters), ``pattern`` (ECMA semantics), ``enum``,
    ``minimum``/``maximum``, ``minItems``/``maxItems``, ``items``,
    ``properties`` and ``required``.

    ``member`` is the member path (``Tags[].Key``); when its last step names a
    field with a realistic kind (an ARN, a user id, a tag list…) that
    strategy is used, checked against ``schema``. Objects carry every
    required property and a drawn subset of the optional ones; list items are
    distinct. Shrinks towards fewer optional members, shorter lists and
    shorter strings."""
    if not isinstance(schema, Mapping):
        raise InvalidArgument(f"schema must be a mapping, got {type(schema).__name__}")
    if member is not None and not isinstance(member, str):
        raise InvalidArgument(f"member must be a str path or None, got {member!r}")
    return _values_for(schema_key(schema), member)


def schema_key(schema: Mapping[str, Any]) -> str:
    """``schema`` as canonical JSON: a cache key (the spec's schemas are plain data)."""
    return json.dumps(schema, sort_keys=True)


@functools.cache
def validator_for(key: str) -> Any:
    """The spec's validator of the schema whose :func:`schema_key` is ``key``."""
    return spec.validator(json.loads(key))


@functools.cache
def _values_for(key: str, member: str | None) -> Any:
    # cached: requests draw values_for per member, and new strategies cost a validation
    schema = json.loads(key)
    kind = _kind_for(member)
    if kind is not None:
        return kind().filter(validator_for(key).is_valid)
    return _generic_values(schema, member or "")


def _kind_for(member: str | None) -> Callable[[], Any] | None:
    if not member:
        return None
    return KIND_BY_MEMBER.get(catalogue.split_path(member)[-1])


def _generic_values(schema: Mapping[str, Any], member: str) -> Any:
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    kind = schema.get("type")
    builder = _BUILDERS.get(kind) if isinstance(kind, str) else None
    if builder is None:
        raise InvalidArgument(f"cannot generate values for schema {dict(schema)!r}")
    return builder(schema, member)


def _strings(schema: Mapping[str, Any], member: str) -> Any:
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    pattern = schema.get("pattern")
    if pattern is None or catalogue.is_vacuous_pattern(pattern):
        return st.text(ANY_CHARACTER, min_size=low, max_size=high)
    return strings_matching(pattern, min_size=low, max_size=high)


def _integers(schema: Mapping[str, Any], member: str) -> Any:
    return st.integers(schema.get("minimum"), schema.get("maximum"))


def _numbers(schema: Mapping[str, Any], member: str) -> Any:
    low, high = schema.get("minimum"), schema.get("maximum")
    return st.one_of(
        st.integers(low, high), st.floats(low, high, allow_nan=False, allow_infinity=False)
    )


def _booleans(schema: Mapping[str, Any], member: str) -> Any:
    return st.booleans()


def _arrays(schema: Mapping[str, Any], member: str) -> Any:
    items = schema.get("items", {})
    return lists_of(
        values_for(items, member=member + "[]"),
        items,
        min_size=schema.get("minItems", 0),
        max_size=schema.get("maxItems"),
    )


def lists_of(
    elements: Any, items: Mapping[str, Any], *, min_size: int, max_size: int | None
) -> Any:
    """Lists of ``elements`` without repeats: objects with a ``Key`` differ in
    it (tags), anything else differs as a whole."""
    if "Key" in items.get("properties", {}):
        return st.lists(elements, min_size=min_size, max_size=max_size, unique_by=_key)
    return st.lists(elements, min_size=min_size, max_size=max_size, unique_by=repr)


def _key(item: Any) -> Any:
    return item.get("Key") if isinstance(item, dict) else repr(item)


def _objects(schema: Mapping[str, Any], member: str) -> Any:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    strategies = {
        name: values_for(sub, member=f"{member}.{name}" if member else name)
        for name, sub in properties.items()
    }
    return st.fixed_dictionaries(
        {k: v for k, v in strategies.items() if k in required},
        optional={k: v for k, v in strategies.items() if k not in required},
    )


_BUILDERS: Mapping[str, Callable[[Mapping[str, Any], str], Any]] = {
    "string": _strings,
    "integer": _integers,
    "number": _numbers,
    "boolean": _booleans,
    "array": _arrays,
    "object": _objects,
}
