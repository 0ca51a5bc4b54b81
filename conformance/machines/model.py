"""The in-memory model: what the target must answer, resource by resource.

Each record holds what the machine wrote, the request that created it (so an
idempotent replay can send it again) and the timestamps last read back (which
may only move forward). ``describes_as()`` is what a Describe must show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Tags = dict[str, str]


@dataclass
class AppInstanceRecord:
    arn: str
    name: str
    metadata: str | None
    create_request: dict[str, Any]
    tags: Tags = field(default_factory=dict)
    retention: dict[str, Any] | None = None
    seen: dict[str, Any] = field(default_factory=dict)  # timestamps read last

    def describes_as(self) -> dict[str, Any]:
        return {"AppInstanceArn": self.arn, "Name": self.name, "Metadata": self.metadata}


@dataclass
class UserRecord:
    arn: str
    app_instance_arn: str
    user_id: str
    name: str
    metadata: str | None
    expiration: dict[str, Any] | None
    seen: dict[str, Any] = field(default_factory=dict)

    def describes_as(self) -> dict[str, Any]:
        return {
            "AppInstanceUserArn": self.arn,
            "Name": self.name,
            "Metadata": self.metadata,
            "ExpirationSettings": self.expiration,
        }

    def lists_as(self) -> dict[str, Any]:
        return {"Name": self.name, "Metadata": self.metadata}


@dataclass
class BotRecord:
    arn: str
    app_instance_arn: str
    name: str | None
    metadata: str | None
    configuration: dict[str, Any]
    seen: dict[str, Any] = field(default_factory=dict)

    def describes_as(self) -> dict[str, Any]:
        return {
            "AppInstanceBotArn": self.arn,
            "Name": self.name,
            "Metadata": self.metadata,
            "Configuration": self.configuration,
        }

    def lists_as(self) -> dict[str, Any]:
        return {"Name": self.name, "Metadata": self.metadata}


@dataclass(frozen=True)
class EndpointKey:
    """What addresses an endpoint: its user and the id the service issued."""

    user_arn: str
    endpoint_id: str

    @property
    def members(self) -> dict[str, str]:
        return {"AppInstanceUserArn": self.user_arn, "EndpointId": self.endpoint_id}


@dataclass
class EndpointRecord:
    key: EndpointKey
    register_request: dict[str, Any]
    name: str | None
    allow_messages: str
    seen: dict[str, Any] = field(default_factory=dict)

    def describes_as(self) -> dict[str, Any]:
        request = self.register_request
        return {
            "AppInstanceUserArn": self.key.user_arn,
            "EndpointId": self.key.endpoint_id,
            "Name": self.name,
            "Type": request["Type"],
            "ResourceArn": request["ResourceArn"],
            "EndpointAttributes": request["EndpointAttributes"],
            "AllowMessages": self.allow_messages,
        }

    def lists_as(self) -> dict[str, Any]:
        return {"Name": self.name, "Type": self.register_request["Type"]}


@dataclass
class AccountRecord:
    account_id: str
    name: str
    default_license: str | None  # None: whatever the service chose, not yet set by us
    seen: dict[str, Any] = field(default_factory=dict)

    def describes_as(self) -> dict[str, Any]:
        wanted: dict[str, Any] = {"AccountId": self.account_id, "Name": self.name}
        if self.default_license is not None:
            wanted["DefaultLicense"] = self.default_license
        return wanted
