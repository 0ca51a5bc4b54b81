"""Realistic values for the fields whose structure the schema cannot state.

The spec says an ARN is ``arn:…:…:…:…:[^/].*``; only hand-written knowledge
says what an AppInstance, user or bot ARN looks like, what a Lex bot alias ARN
holds, or that a tag list should not repeat a key. Everything here is valid
for the spec's shapes; :func:`strategies.values_for` plugs these in by member
name and still checks each value against the member's schema.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from chime_conformance.contract import resources, spec
from chime_conformance.strategies._internal.patterns import (
    ASTRAL_CHARACTER,
    regex_matches,
    strings_matching,
)

USER_ID_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9:\-_.@]{0,62}[A-Za-z0-9])?$"
CLIENT_REQUEST_TOKEN_PATTERN = r"^[-_a-zA-Z0-9]*$"
RESOURCE_NAME_PATTERN = (
    r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u0084\u0086-\u009F"
    r"\uD800-\uDFFF\uFFFE\uFFFF]*$"
)
USER_NAME_PATTERN = r"^.*\S.*$"
LEX_INTENT_NAME_PATTERN = r"^([A-Za-z]_?)+$"

REGIONS = ("us-east-1", "us-west-2", "eu-central-1", "eu-west-2", "ap-northeast-1", "ca-central-1")
LEX_LOCALES = ("en_US", "en_GB", "en_AU", "es_US", "fr_FR", "de_DE", "ja_JP")

_REGION = re.compile(r"[a-z]{2}-[a-z]+-[0-9]")
_ACCOUNT = re.compile(r"[0-9]{12}")


def _checked(value: str | None, shape: re.Pattern[str], name: str) -> str | None:
    if value is not None and (not isinstance(value, str) or not shape.fullmatch(value)):
        raise InvalidArgument(f"{name}={value!r} must be None or match {shape.pattern}")
    return value


def regions(*, region: str | None = None) -> Any:
    """AWS region names (``us-east-1``…), or just ``region`` when given."""
    region = _checked(region, _REGION, "region")
    return st.just(region) if region else st.sampled_from(REGIONS)


def account_numbers(*, account: str | None = None) -> Any:
    """Twelve-digit AWS account numbers, or just ``account`` when given;
    shrinks towards ``000000000000``."""
    account = _checked(account, _ACCOUNT, "account")
    return st.just(account) if account else regex_matches(r"[0-9]{12}")


def uuids() -> Any:
    """Version 4 UUIDs as lowercase text (AppInstance and bot ids)."""
    return st.uuids(version=4).map(str)


def app_instance_arns(*, region: str | None = None, account: str | None = None) -> Any:
    """``arn:aws:chime:{region}:{account}:app-instance/{uuid}``: valid ARNs of
    AppInstances that almost surely do not exist (valid-but-absent)."""
    return arns_of("app-instance", region=region, account=account)


def _app_instance(app_instance_arn: str | None) -> str | None:
    if app_instance_arn is not None and (
        not isinstance(app_instance_arn, str) or "app-instance/" not in app_instance_arn
    ):
        raise InvalidArgument(f"app_instance_arn={app_instance_arn!r} is not an AppInstance ARN")
    return app_instance_arn


def app_instance_user_arns(
    *, app_instance_arn: str | None = None, region: str | None = None, account: str | None = None
) -> Any:
    """``…:app-instance/{uuid}/user/{AppInstanceUserId}``, under
    ``app_instance_arn`` when given."""
    parent = _app_instance(app_instance_arn)
    return arns_of("user", parent_arn=parent, region=region, account=account)


def app_instance_bot_arns(
    *, app_instance_arn: str | None = None, region: str | None = None, account: str | None = None
) -> Any:
    """``…:app-instance/{uuid}/bot/{uuid}``, under ``app_instance_arn`` when given."""
    parent = _app_instance(app_instance_arn)
    return arns_of("bot", parent_arn=parent, region=region, account=account)


def app_instance_admin_arns(*, app_instance_arn: str | None = None) -> Any:
    """ARNs of what can be an admin: users and bots (of ``app_instance_arn``)."""
    return arns_of("admin", parent_arn=_app_instance(app_instance_arn))


def taggable_arns() -> Any:
    """ARNs of every taggable kind: AppInstances, users and bots."""
    return resource_identifiers(resources.TAGGING_MEMBER)


def arns_of(
    kind: str,
    *,
    parent_arn: str | None = None,
    region: str | None = None,
    account: str | None = None,
) -> Any:
    """ARNs of resources of ``kind`` (a name of the resource catalogue,
    :mod:`chime_conformance.contract.resources`) as the catalogue shapes them,
    under ``parent_arn`` when given; for a kind named by other kinds' ARNs
    (an admin), theirs. Ids the service issues are UUIDs."""
    if not isinstance(kind, str) or kind not in resources.KINDS:
        raise InvalidArgument(f"kind={kind!r} is not one of {sorted(resources.KINDS)}")
    shape = resources.kind(kind)
    if shape.arn is None:
        if not shape.arn_of:
            raise InvalidArgument(f"a {kind} has no ARN; its identifier is {shape.member}")
        return st.one_of(
            *(
                arns_of(o, parent_arn=parent_arn, region=region, account=account)
                for o in shape.arn_of
            )
        )
    if shape.parent is None:
        parent = st.builds(
            "arn:aws:chime:{}:{}".format,
            regions(region=region),
            account_numbers(account=account),
        )
    elif parent_arn is not None:
        parent = st.just(parent_arn)
    else:
        parent = arns_of(shape.parent, region=region, account=account)
    return st.builds(shape.arn_under, parent, _identifiers(shape))


def _identifiers(shape: resources.Kind) -> Any:
    # the id in an ARN: one the service issues, or a member the caller gives
    placeholder = shape.arn_id or ""
    if placeholder == "uuid":
        return uuids()
    if placeholder in _GIVEN_IDS:
        return _GIVEN_IDS[placeholder]()
    schema = spec.operation(shape.create).input_schema["properties"][placeholder]
    return strings_matching(
        schema.get("pattern", ".*"),
        min_size=schema.get("minLength", 1),
        max_size=schema.get("maxLength"),
    )


def resource_identifiers(member: str) -> Any:
    """Values of ``member``, a member that names a resource (the catalogue's
    :func:`~chime_conformance.contract.resources.naming_members`): the ARNs of
    the kinds it may name, or the ids the service issues (UUIDs)."""
    kinds = resources.naming_members()[member]
    if all(resources.kind(k).arn_kinds for k in kinds):
        return st.one_of(*(arns_of(k) for k in kinds))
    return uuids()


def endpoint_resource_arns() -> Any:
    """Amazon Pinpoint application ARNs, the resource a push endpoint uses."""
    app_id = regex_matches(r"[0-9a-f]{32}")
    return st.builds(
        "arn:aws:mobiletargeting:{}:{}:apps/{}".format, regions(), account_numbers(), app_id
    )


def app_instance_user_ids() -> Any:
    """AppInstanceUserIds: UUIDs, e-mail-like ids, and anything else the
    64-character UserId pattern allows (``:``, ``-``, ``_``, ``.``, ``@`` inside,
    alphanumerics at both ends)."""
    emails = regex_matches(r"[a-z][a-z0-9.]{0,20}[a-z0-9]@example\.(com|org)")
    return st.one_of(uuids(), emails, strings_matching(USER_ID_PATTERN, min_size=1, max_size=64))


# Ids the caller gives, with hand-made realism (others: the spec's pattern).
_GIVEN_IDS = {"AppInstanceUserId": app_instance_user_ids}


def client_request_tokens() -> Any:
    """Idempotency tokens: UUIDs (what the SDKs send) and any 2–64 characters
    of ``[-_a-zA-Z0-9]``."""
    generic = strings_matching(CLIENT_REQUEST_TOKEN_PATTERN, min_size=2, max_size=64)
    return st.one_of(uuids(), generic)


def _sizes(min_size: int, max_size: int, low: int, high: int) -> None:
    if not (isinstance(min_size, int) and isinstance(max_size, int)):
        raise InvalidArgument(f"sizes must be ints, got {min_size!r}, {max_size!r}")
    if not low <= min_size <= max_size <= high:
        raise InvalidArgument(
            f"need {low} <= min_size <= max_size <= {high}, got {min_size}, {max_size}"
        )


def resource_names(*, min_size: int = 0, max_size: int = 256) -> Any:
    """AppInstance and bot names: every XML 1.0 character the ResourceName
    pattern admits (TAB, LF, CR, NEL, astral planes), some all-astral, some
    plain ASCII; shrinks towards short ASCII names."""
    _sizes(min_size, max_size, 0, 256)
    plain = regex_matches(r"[A-Za-z][A-Za-z0-9 _-]{0,30}")
    astral = st.text(ASTRAL_CHARACTER, min_size=max(min_size, 1), max_size=max_size)
    return st.one_of(
        plain.filter(lambda s: min_size <= len(s) <= max_size),
        strings_matching(RESOURCE_NAME_PATTERN, min_size=min_size, max_size=max_size),
        astral.filter(lambda s: min_size <= len(s)),
    )


def user_names(*, min_size: int = 1, max_size: int = 100) -> Any:
    """User names that satisfy ``.*\\S.*`` on one line: at least one
    non-whitespace character, leading and trailing spaces allowed, no line
    terminator."""
    _sizes(min_size, max_size, 1, 100)
    # from_regex: an optional group of 3+ characters leaves gaps in the lengths
    # that regex_matches cannot aim at
    plain = st.from_regex(r" ?[A-Z][a-z]{1,12}( [A-Z][a-z]{1,12})? ?", fullmatch=True)
    return st.one_of(
        plain.filter(lambda s: min_size <= len(s) <= max_size),
        strings_matching(USER_NAME_PATTERN, min_size=min_size, max_size=max_size),
    )


def metadata(*, max_size: int = 1024) -> Any:
    """Free-text metadata of up to ``max_size`` characters: JSON documents,
    and any text at all (newlines, controls, astral characters)."""
    _sizes(0, max_size, 0, 1024)
    documents = st.dictionaries(regex_matches(r"[a-z]{1,8}"), st.integers(0, 999), max_size=4).map(
        lambda d: str(d).replace("'", '"')
    )
    anything = st.text(st.characters(exclude_categories=["Cs"]), max_size=max_size)
    return st.one_of(documents.filter(lambda s: len(s) <= max_size), anything)


def tag_keys() -> Any:
    """Tag keys of 1–128 characters: ``team``-like keys and any text."""
    plain = regex_matches(r"[a-z][a-z0-9:/_.-]{0,20}")
    return st.one_of(
        plain, st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=128)
    )


def tag_values() -> Any:
    """Tag values of 1–256 characters."""
    return st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=256)


def tags() -> Any:
    """One tag, ``{"Key": …, "Value": …}``."""
    return st.fixed_dictionaries({"Key": tag_keys(), "Value": tag_values()})


def tag_lists(*, min_size: int = 1, max_size: int = 50) -> Any:
    """Lists of 1–50 tags with distinct keys (a service may refuse a repeated
    key for reasons the schema does not state); shrinks towards one tag."""
    _sizes(min_size, max_size, 1, 50)
    return st.lists(tags(), min_size=min_size, max_size=max_size, unique_by=lambda t: t["Key"])


def tag_key_lists(*, min_size: int = 1, max_size: int = 50) -> Any:
    """Lists of 1–50 distinct tag keys, as UntagResource takes them."""
    _sizes(min_size, max_size, 1, 50)
    return st.lists(tag_keys(), min_size=min_size, max_size=max_size, unique=True)


def max_results(*, maximum: int = 50) -> Any:
    """Page sizes from 1 to ``maximum`` (50 for identity, 200 for accounts)."""
    if not isinstance(maximum, int) or maximum < 1:
        raise InvalidArgument(f"maximum must be a positive int, got {maximum!r}")
    return st.integers(1, maximum)


def lex_bot_alias_arns(*, region: str | None = None, account: str | None = None) -> Any:
    """``arn:aws:lex:{region}:{account}:bot-alias/{BOTID}/{ALIASID}``, ids of
    ten upper-case letters and digits."""
    lex_id = regex_matches(r"[A-Z0-9]{10}")
    return st.builds(
        "arn:aws:lex:{}:{}:bot-alias/{}/{}".format,
        regions(region=region),
        account_numbers(account=account),
        lex_id,
        lex_id,
    )


def lex_locale_ids() -> Any:
    """Lex V2 locale ids such as ``en_US``."""
    return st.sampled_from(LEX_LOCALES)


def lex_intent_names() -> Any:
    """Intent names: letters with single underscores between (``Order_Pizza``)."""
    plain = st.sampled_from(("Welcome", "Greeting", "Order_Pizza", "Check_Balance"))
    return st.one_of(plain, strings_matching(LEX_INTENT_NAME_PATTERN, min_size=1, max_size=100))


def device_tokens() -> Any:
    """Push device tokens: 64 hex digits (APNs) or an FCM-like token."""
    apns = regex_matches(r"[0-9a-f]{64}")
    fcm = regex_matches(r"[A-Za-z0-9_-]{11}:[A-Za-z0-9_-]{140}")
    return st.one_of(apns, fcm)


def endpoint_ids() -> Any:
    """Endpoint ids as the service issues them (UUIDs)."""
    return resource_identifiers("EndpointId")


def account_ids() -> Any:
    """Chime account ids (UUIDs)."""
    return resource_identifiers("AccountId")


def email_addresses() -> Any:
    """E-mail addresses ``local@domain.tld``."""
    return regex_matches(r"[a-z][a-z0-9._+-]{0,20}@[a-z][a-z0-9-]{0,20}\.(com|org|net)")
