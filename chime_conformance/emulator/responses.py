"""Thin handlers: validated members in, the backend's answer out as a wire dict.

Each handler takes the backend of the caller's account and region and the
request's ``{member: value}`` (already validated against the spec by the
dispatcher) and returns the JSON body of the success response, or ``None`` for
an empty one. Rules live in ``models.py``; nothing here decides anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chime_conformance.emulator.models import (
    AccountsBackend,
    IdentityBackend,
    epoch_seconds,
    tag_list,
)

Params = dict[str, Any]
Body = dict[str, Any] | None
IdentityHandler = Callable[[IdentityBackend, Params], Body]
AccountsHandler = Callable[[AccountsBackend, Params], Body]

IDENTITY_HANDLERS: dict[str, IdentityHandler] = {}
ACCOUNTS_HANDLERS: dict[str, AccountsHandler] = {}


def identity(operation: str) -> Callable[[IdentityHandler], IdentityHandler]:
    def register(handler: IdentityHandler) -> IdentityHandler:
        IDENTITY_HANDLERS[operation] = handler
        return handler

    return register


def accounts(operation: str) -> Callable[[AccountsHandler], AccountsHandler]:
    def register(handler: AccountsHandler) -> AccountsHandler:
        ACCOUNTS_HANDLERS[operation] = handler
        return handler

    return register


def _page_body(list_member: str, items: list[dict[str, Any]], next_token: str | None) -> Params:
    body: Params = {list_member: items}
    if next_token is not None:
        body["NextToken"] = next_token
    return body


# -- AppInstances ---------------------------------------------------------------


@identity("CreateAppInstance")
def create_app_instance(backend: IdentityBackend, p: Params) -> Body:
    instance = backend.create_app_instance(
        p["Name"], p.get("Metadata"), p["ClientRequestToken"], p.get("Tags", [])
    )
    return {"AppInstanceArn": instance.arn}


@identity("DescribeAppInstance")
def describe_app_instance(backend: IdentityBackend, p: Params) -> Body:
    return {"AppInstance": backend.app_instance(p["AppInstanceArn"]).describe()}


@identity("ListAppInstances")
def list_app_instances(backend: IdentityBackend, p: Params) -> Body:
    page = backend.list_app_instances(p.get("MaxResults"), p.get("NextToken"))
    return _page_body("AppInstances", [i.summary() for i in page.items], page.next_token)


@identity("UpdateAppInstance")
def update_app_instance(backend: IdentityBackend, p: Params) -> Body:
    instance = backend.update_app_instance(p["AppInstanceArn"], p["Name"], p["Metadata"])
    return {"AppInstanceArn": instance.arn}


@identity("DeleteAppInstance")
def delete_app_instance(backend: IdentityBackend, p: Params) -> Body:
    backend.delete_app_instance(p["AppInstanceArn"])
    return None


# -- Settings -------------------------------------------------------------------


def _retention_body(settings: dict[str, Any] | None, updated: float | None) -> Params:
    body: Params = {"AppInstanceRetentionSettings": settings or {}}
    if updated is not None:
        body["InitiateDeletionTimestamp"] = epoch_seconds(updated)
    return body


@identity("PutAppInstanceRetentionSettings")
def put_app_instance_retention_settings(backend: IdentityBackend, p: Params) -> Body:
    instance = backend.put_retention_settings(
        p["AppInstanceArn"], p["AppInstanceRetentionSettings"]
    )
    return _retention_body(instance.retention_settings, instance.retention_updated)


@identity("GetAppInstanceRetentionSettings")
def get_app_instance_retention_settings(backend: IdentityBackend, p: Params) -> Body:
    instance = backend.app_instance(p["AppInstanceArn"])
    return _retention_body(instance.retention_settings, instance.retention_updated)


@identity("PutAppInstanceUserExpirationSettings")
def put_app_instance_user_expiration_settings(backend: IdentityBackend, p: Params) -> Body:
    user = backend.put_user_expiration_settings(
        p["AppInstanceUserArn"], p.get("ExpirationSettings")
    )
    body: Params = {"AppInstanceUserArn": user.arn}
    if user.expiration_settings is not None:
        body["ExpirationSettings"] = user.expiration_settings
    return body


# -- AppInstanceUsers -----------------------------------------------------------


@identity("CreateAppInstanceUser")
def create_app_instance_user(backend: IdentityBackend, p: Params) -> Body:
    user = backend.create_app_instance_user(
        p["AppInstanceArn"],
        p["AppInstanceUserId"],
        p["Name"],
        p.get("Metadata"),
        p["ClientRequestToken"],
        p.get("Tags", []),
        p.get("ExpirationSettings"),
    )
    return {"AppInstanceUserArn": user.arn}


@identity("DescribeAppInstanceUser")
def describe_app_instance_user(backend: IdentityBackend, p: Params) -> Body:
    return {"AppInstanceUser": backend.user(p["AppInstanceUserArn"]).describe()}


@identity("ListAppInstanceUsers")
def list_app_instance_users(backend: IdentityBackend, p: Params) -> Body:
    arn = p["AppInstanceArn"]
    page = backend.list_app_instance_users(arn, p.get("MaxResults"), p.get("NextToken"))
    users = [u.summary() for u in page.items]
    return {"AppInstanceArn": arn} | _page_body("AppInstanceUsers", users, page.next_token)


@identity("UpdateAppInstanceUser")
def update_app_instance_user(backend: IdentityBackend, p: Params) -> Body:
    user = backend.update_app_instance_user(p["AppInstanceUserArn"], p["Name"], p["Metadata"])
    return {"AppInstanceUserArn": user.arn}


@identity("DeleteAppInstanceUser")
def delete_app_instance_user(backend: IdentityBackend, p: Params) -> Body:
    backend.delete_app_instance_user(p["AppInstanceUserArn"])
    return None


# -- AppInstanceBots ------------------------------------------------------------


@identity("CreateAppInstanceBot")
def create_app_instance_bot(backend: IdentityBackend, p: Params) -> Body:
    bot = backend.create_app_instance_bot(
        p["AppInstanceArn"],
        p.get("Name"),
        p.get("Metadata"),
        p["ClientRequestToken"],
        p.get("Tags", []),
        p["Configuration"],
    )
    return {"AppInstanceBotArn": bot.arn}


@identity("DescribeAppInstanceBot")
def describe_app_instance_bot(backend: IdentityBackend, p: Params) -> Body:
    return {"AppInstanceBot": backend.bot(p["AppInstanceBotArn"]).describe()}


@identity("ListAppInstanceBots")
def list_app_instance_bots(backend: IdentityBackend, p: Params) -> Body:
    arn = p["AppInstanceArn"]
    page = backend.list_app_instance_bots(arn, p.get("MaxResults"), p.get("NextToken"))
    bots = [b.summary() for b in page.items]
    return {"AppInstanceArn": arn} | _page_body("AppInstanceBots", bots, page.next_token)


@identity("UpdateAppInstanceBot")
def update_app_instance_bot(backend: IdentityBackend, p: Params) -> Body:
    bot = backend.update_app_instance_bot(
        p["AppInstanceBotArn"], p["Name"], p["Metadata"], p.get("Configuration")
    )
    return {"AppInstanceBotArn": bot.arn}


@identity("DeleteAppInstanceBot")
def delete_app_instance_bot(backend: IdentityBackend, p: Params) -> Body:
    backend.delete_app_instance_bot(p["AppInstanceBotArn"])
    return None


# -- AppInstanceAdmins ----------------------------------------------------------


@identity("CreateAppInstanceAdmin")
def create_app_instance_admin(backend: IdentityBackend, p: Params) -> Body:
    admin = backend.create_app_instance_admin(p["AppInstanceArn"], p["AppInstanceAdminArn"])
    return {
        "AppInstanceAdmin": backend.admin_identity(admin.admin_arn),
        "AppInstanceArn": admin.app_instance_arn,
    }


@identity("DescribeAppInstanceAdmin")
def describe_app_instance_admin(backend: IdentityBackend, p: Params) -> Body:
    admin = backend.app_instance_admin(p["AppInstanceArn"], p["AppInstanceAdminArn"])
    return {
        "AppInstanceAdmin": {
            "Admin": backend.admin_identity(admin.admin_arn),
            "AppInstanceArn": admin.app_instance_arn,
            "CreatedTimestamp": epoch_seconds(admin.created),
        }
    }


@identity("ListAppInstanceAdmins")
def list_app_instance_admins(backend: IdentityBackend, p: Params) -> Body:
    arn = p["AppInstanceArn"]
    page = backend.list_app_instance_admins(arn, p.get("MaxResults"), p.get("NextToken"))
    admins = [{"Admin": backend.admin_identity(a.admin_arn)} for a in page.items]
    return {"AppInstanceArn": arn} | _page_body("AppInstanceAdmins", admins, page.next_token)


@identity("DeleteAppInstanceAdmin")
def delete_app_instance_admin(backend: IdentityBackend, p: Params) -> Body:
    backend.delete_app_instance_admin(p["AppInstanceArn"], p["AppInstanceAdminArn"])
    return None


# -- AppInstanceUserEndpoints ---------------------------------------------------


@identity("RegisterAppInstanceUserEndpoint")
def register_app_instance_user_endpoint(backend: IdentityBackend, p: Params) -> Body:
    endpoint = backend.register_endpoint(
        p["AppInstanceUserArn"],
        p.get("Name"),
        p["Type"],
        p["ResourceArn"],
        p["EndpointAttributes"],
        p["ClientRequestToken"],
        p.get("AllowMessages"),
    )
    return {"AppInstanceUserArn": endpoint.user_arn, "EndpointId": endpoint.endpoint_id}


@identity("DescribeAppInstanceUserEndpoint")
def describe_app_instance_user_endpoint(backend: IdentityBackend, p: Params) -> Body:
    endpoint = backend.endpoint(p["AppInstanceUserArn"], p["EndpointId"])
    return {"AppInstanceUserEndpoint": endpoint.describe()}


@identity("ListAppInstanceUserEndpoints")
def list_app_instance_user_endpoints(backend: IdentityBackend, p: Params) -> Body:
    page = backend.list_endpoints(p["AppInstanceUserArn"], p.get("MaxResults"), p.get("NextToken"))
    endpoints = [e.summary() for e in page.items]
    return _page_body("AppInstanceUserEndpoints", endpoints, page.next_token)


@identity("UpdateAppInstanceUserEndpoint")
def update_app_instance_user_endpoint(backend: IdentityBackend, p: Params) -> Body:
    endpoint = backend.update_endpoint(
        p["AppInstanceUserArn"], p["EndpointId"], p.get("Name"), p.get("AllowMessages")
    )
    return {"AppInstanceUserArn": endpoint.user_arn, "EndpointId": endpoint.endpoint_id}


@identity("DeregisterAppInstanceUserEndpoint")
def deregister_app_instance_user_endpoint(backend: IdentityBackend, p: Params) -> Body:
    backend.deregister_endpoint(p["AppInstanceUserArn"], p["EndpointId"])
    return None


# -- Tags -----------------------------------------------------------------------


@identity("TagResource")
def tag_resource(backend: IdentityBackend, p: Params) -> Body:
    backend.tag_resource(p["ResourceARN"], p["Tags"])
    return None


@identity("UntagResource")
def untag_resource(backend: IdentityBackend, p: Params) -> Body:
    backend.untag_resource(p["ResourceARN"], p["TagKeys"])
    return None


@identity("ListTagsForResource")
def list_tags_for_resource(backend: IdentityBackend, p: Params) -> Body:
    tags = backend.taggable(p["ResourceARN"]).tags
    # TagList has minItems 1: an untagged resource answers without the member
    return {"Tags": tag_list(tags)} if tags else {}


# -- Accounts (legacy Amazon Chime API) -----------------------------------------


@accounts("CreateAccount")
def create_account(backend: AccountsBackend, p: Params) -> Body:
    return {"Account": backend.create_account(p["Name"]).describe()}


@accounts("GetAccount")
def get_account(backend: AccountsBackend, p: Params) -> Body:
    return {"Account": backend.account(p["AccountId"]).describe()}


@accounts("ListAccounts")
def list_accounts(backend: AccountsBackend, p: Params) -> Body:
    page = backend.list_accounts(
        p.get("Name"), p.get("UserEmail"), p.get("MaxResults"), p.get("NextToken")
    )
    return _page_body("Accounts", [a.describe() for a in page.items], page.next_token)


@accounts("UpdateAccount")
def update_account(backend: AccountsBackend, p: Params) -> Body:
    account = backend.update_account(p["AccountId"], p.get("Name"), p.get("DefaultLicense"))
    return {"Account": account.describe()}


@accounts("DeleteAccount")
def delete_account(backend: AccountsBackend, p: Params) -> Body:
    backend.delete_account(p["AccountId"])
    return None
