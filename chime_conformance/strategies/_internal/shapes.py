"""Named strategies for structured members, derived from the spec.

Each is ``values_for`` (or ``near_misses``) of one member of one operation,
looked up when first drawn from, so they follow the spec as it changes and
never repeat its constraints by hand.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from chime_conformance.contract import constraints as catalogue
from chime_conformance.contract import spec
from chime_conformance.strategies._internal.boundaries import near_misses
from chime_conformance.strategies._internal.values import values_for


def _member_values(operation: str, member: str) -> Any:
    def build() -> Any:
        schema = catalogue.member_schema(spec.operation(operation), member)
        return values_for(schema, member=member)

    return st.deferred(build)


def _member_near_misses(operation: str, member: str) -> Any:
    def build() -> Any:
        schema = catalogue.member_schema(spec.operation(operation), member)
        return near_misses(schema, member=member)

    return st.deferred(build)


def lex_configurations() -> Any:
    """Lex configurations of a bot: a Lex V2 alias ARN and locale, and a drawn
    subset of RespondsTo, InvokedBy and WelcomeIntent."""
    return _member_values("CreateAppInstanceBot", "Configuration.Lex")


def bot_configurations() -> Any:
    """AppInstanceBot configurations, ``{"Lex": …}``."""
    return _member_values("CreateAppInstanceBot", "Configuration")


def endpoint_attributes() -> Any:
    """Push endpoint attributes: a device token, sometimes a VoIP token."""
    return _member_values("RegisterAppInstanceUserEndpoint", "EndpointAttributes")


def expiration_settings() -> Any:
    """User expiration settings: 1–5475 days after ``CREATED_TIMESTAMP``."""
    return _member_values("PutAppInstanceUserExpirationSettings", "ExpirationSettings")


def retention_settings() -> Any:
    """AppInstance retention settings: channel messages kept 1–5475 days."""
    return _member_values("PutAppInstanceRetentionSettings", "AppInstanceRetentionSettings")


def invalid_app_instance_arns() -> Any:
    """Near-miss AppInstance ARNs that fail the ARN pattern alone: a wrong
    partition, a segment missing, a bad character, surrounding whitespace."""
    return _member_near_misses("DescribeAppInstance", "AppInstanceArn")


def invalid_user_ids() -> Any:
    """Near-miss AppInstanceUserIds that fail the UserId pattern alone: a
    space or other bad character, a separator at either end."""
    return _member_near_misses("CreateAppInstanceUser", "AppInstanceUserId")
