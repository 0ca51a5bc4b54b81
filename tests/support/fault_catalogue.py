"""The one fault catalogue of the project: for every fault of the emulator
(``chime_conformance.emulator.faults``), which checks of the suite must
report it and which slice of the suite exercises it.

The emulator only knows how to break a fact; what catches each break is the
suite's business, so it lives here, on the tests' side, used by:

- ``tests/end_to_end/test_mutation.py``: runs each entry's slice (``tests`` and
  ``keyword``, as pytest arguments) against an emulator with that one fault,
  and demands a failure of one of ``caught_by`` and of no other check;
- ``tests/end_to_end/test_state_machines.py``: for an entry with a ``machine`` proof, runs
  that state machine against the faulty emulator, demands its ``check``, and
  replays the printed script (``shows_break`` tells the break from the answers);
- ``tests/emulator/test_faults.py``: every registered fault has exactly one entry, every
  entry names a registered fault, real checks and real test files.

An entry needs a slice, a machine proof, or both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# The conformance suite's files, as pytest arguments from the checkout's root.
REQUESTS = "conformance/test_requests.py"
LIFECYCLE = "conformance/test_lifecycle.py"
MISSING = "conformance/test_missing_resources.py"
EDGES = "conformance/test_contract_edges.py"
PROMISES = "conformance/test_promises.py"
CONCURRENCY = "conformance/test_concurrency.py"
TENANTS = "conformance/test_tenants.py"


@dataclass(frozen=True)
class MachineProof:
    """A state machine (a class of ``conformance.machines``, by name) that must
    raise ``check`` against the faulty emulator; its reproducer, replayed,
    shows the break (``shows_break`` over the replayed requests) on the faulty
    emulator and not on a healthy one."""

    machine: str
    check: str
    shows_break: Callable[[Sequence[Any]], bool]
    # shrinking replays the machine hundreds of times: done where it is quick
    shrink: bool = False


@dataclass(frozen=True)
class Catch:
    """What must catch one fault."""

    caught_by: tuple[str, ...]  # check names, any of which must report the fault
    tests: tuple[str, ...] = ()  # pytest arguments: the suite's files or node ids
    keyword: str | None = None  # a -k expression narrowing ``tests``, or None
    machine: MachineProof | None = None

    def pytest_args(self) -> list[str]:
        """The arguments that select the slice of the suite exercising the fault."""
        return [*self.tests, *(["-k", self.keyword] if self.keyword else [])]


# -- the replayed requests of a state machine's reproducer ---------------------
# (``Replayed`` of tests/end_to_end/test_state_machines.py: operation, sent, status, answer)


def _last(replay: Sequence[Any], operation: str | None = None) -> Any:
    return next(r for r in reversed(replay) if operation in (None, r.operation))


def _answer(replayed: Any, *path: str) -> Any:
    value = replayed.answer
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _update_lost(replay: Sequence[Any]) -> bool:
    written = _last(replay, "UpdateAppInstance").sent
    instance = _answer(_last(replay), "AppInstance") or {}
    return any(instance.get(key) != written[key] for key in ("Name", "Metadata"))


def _created_anew(replay: Sequence[Any]) -> bool:
    creates = [r.answer.get("AppInstanceArn") for r in replay if r.operation == "CreateAppInstance"]
    return creates[-1] not in creates[:-1]


def _update_time_forgotten(replay: Sequence[Any]) -> bool:
    instance = _answer(_last(replay), "AppInstance") or {}
    return bool(instance["LastUpdatedTimestamp"] == instance["CreatedTimestamp"])


def _one_id_created_twice(replay: Sequence[Any]) -> bool:
    """The last overlapping creates of one user id were answered 201 more than once."""
    group = [r for r in replay if r.operation == "CreateAppInstanceUser" and r.together]
    last = [r for r in group if r.together == group[-1].together] if group else []
    return sum(1 for r in last if r.status == 201) > 1


def promise_slice(test: str, operation: str) -> str:
    """The -k expression of one promise test on one operation."""
    return f"{test} and {operation}]"


def _still_there(replay: Sequence[Any]) -> bool:
    return bool(_last(replay).status == 200)


# -- slices shared by several faults -------------------------------------------

ERROR_ANSWERS = "DescribeAppInstance- or DescribeAppInstanceUser-"
DESCRIBES = (
    "test_a_valid_request_is_accepted and (DescribeAppInstance] or DescribeAppInstanceUser])"
)
PAGE_WALK = "test_listing_users_page_by_page_visits_each_exactly_once"
TAGS_READ_BACK = "test_tags_are_stored_merged_and_removed"
ACCOUNT_LIFECYCLE = "test_an_account_reads_back_as_created_and_updated"
# Scenario.gone verifies the last answer (missing_resource_reported) before it
# records its own verdict, so that check is the one that fails first.
DELETE_CHECKS = ("delete_is_final", "missing_resource_reported")
CASCADE_CHECKS = ("cascade", "missing_resource_reported")


def auth_slice(signing: str) -> str:
    return (
        "test_a_request_not_signed_correctly_is_refused and "
        f"(CreateAppInstance-{signing} or ListAppInstances-{signing} or GetAccount-{signing})"
    )


CATALOGUE: dict[str, Catch] = {
    # validation: a one-fault strategy and a boundary probe, narrowed to
    # operations whose handler takes the value in stride
    # -- validation ------------------------------------------------------------
    "max_length_unenforced": Catch(
        caught_by=("invalid_input_rejected",),
        tests=(REQUESTS,),
        keyword="CreateAppInstance-too_long or CreateAppInstance:Metadata:maxLength:outside",
    ),
    "min_length_unenforced": Catch(
        caught_by=("invalid_input_rejected",),
        tests=(REQUESTS,),
        keyword="CreateAppInstance-too_short or CreateAppInstance:Name:minLength:outside",
    ),
    "pattern_unenforced": Catch(
        caught_by=("invalid_input_rejected",),
        tests=(REQUESTS,),
        keyword="CreateAppInstance-pattern or CreateAppInstance:ClientRequestToken:pattern:outside",
    ),
    "enum_unenforced": Catch(
        caught_by=("invalid_input_rejected",),
        tests=(REQUESTS,),
        keyword="UpdateAppInstanceUserEndpoint-enum or UpdateAppInstanceUserEndpoint:AllowMessages:enum:outside",
    ),
    "maximum_unenforced": Catch(
        caught_by=("invalid_input_rejected",),
        tests=(REQUESTS,),
        keyword="ListAppInstances-above_maximum or ListAppInstances:MaxResults:maximum:outside",
    ),
    "minimum_unenforced": Catch(
        caught_by=("invalid_input_rejected",),
        tests=(REQUESTS,),
        keyword="ListAppInstances-below_minimum or ListAppInstances:MaxResults:minimum:outside",
    ),
    "max_items_unenforced": Catch(
        caught_by=("invalid_input_rejected",),
        tests=(REQUESTS,),
        keyword="UntagResource-too_many_items or UntagResource:TagKeys:maxItems:outside",
    ),
    "required_unenforced": Catch(
        caught_by=("invalid_input_rejected",),
        tests=(REQUESTS,),
        keyword="CreateAppInstance-missing_required or CreateAppInstance:Name:required:outside",
    ),
    "type_unenforced": Catch(
        caught_by=("invalid_input_rejected",),
        tests=(REQUESTS,),
        keyword="UpdateAppInstance-wrong_type or ListAppInstances-wrong_type",
    ),
    "max_length_exclusive": Catch(
        caught_by=("valid_input_accepted",),
        tests=(REQUESTS,),
        keyword="CreateAppInstance:Name:maxLength:inside or CreateAppInstance:Metadata:maxLength:inside",
    ),
    "min_length_exclusive": Catch(
        caught_by=("valid_input_accepted",),
        tests=(REQUESTS,),
        keyword="CreateAppInstance:ClientRequestToken:minLength:inside",
    ),
    "maximum_exclusive": Catch(
        caught_by=("valid_input_accepted",),
        tests=(REQUESTS,),
        keyword="ListAppInstances:MaxResults:maximum:inside or ListAccounts:MaxResults:maximum:inside",
    ),
    "non_ascii_refused": Catch(
        caught_by=("valid_input_accepted",),
        tests=(LIFECYCLE,),
        keyword="test_an_app_instance_reads_back_as_created_and_as_updated",
    ),
    # -- status codes ----------------------------------------------------------
    "create_answers_200": Catch(
        caught_by=("status_code_matches_spec",),
        tests=(REQUESTS,),
        keyword="test_a_valid_request_is_accepted and (CreateAppInstance] or CreateAccount])",
    ),
    "delete_answers_200": Catch(
        caught_by=("status_code_matches_spec",),
        tests=(REQUESTS,),
        keyword="test_a_valid_request_is_accepted and (DeleteAppInstanceUser or TagResource)",
    ),
    "duplicate_user_answers_400": Catch(
        caught_by=("duplicate_rejected",),
        tests=(LIFECYCLE,),
        keyword="test_a_taken_user_id_conflicts",
    ),
    "missing_resource_answers_200": Catch(
        caught_by=("missing_resource_reported",),
        tests=(MISSING,),
        keyword="DescribeAppInstance- or GetAccount-",
    ),
    # -- error shape -----------------------------------------------------------
    "error_type_header_missing": Catch(
        caught_by=("error_shape_is_aws",),
        tests=(MISSING,),
        keyword=ERROR_ANSWERS,
    ),
    "error_code_is_http_phrase": Catch(
        caught_by=("error_code_enum",),  # docs/contract.md, error-code-enum
        tests=(MISSING,),
        keyword=ERROR_ANSWERS,
    ),
    "error_message_missing": Catch(
        caught_by=("error_shape_is_aws",),
        tests=(MISSING,),
        keyword=ERROR_ANSWERS,
    ),
    "errors_all_named_bad_request": Catch(
        caught_by=("error_shape_is_aws", "missing_resource_reported"),
        tests=(MISSING,),
        keyword=ERROR_ANSWERS,
    ),
    "error_body_not_json": Catch(
        caught_by=("error_shape_is_aws", "content_type_is_json"),
        tests=(MISSING,),
        keyword=ERROR_ANSWERS,
    ),
    # -- response shape --------------------------------------------------------
    "null_for_absent_members": Catch(
        caught_by=("response_matches_schema",),
        tests=(REQUESTS,),
        keyword=DESCRIBES,
    ),
    "timestamps_in_milliseconds": Catch(
        caught_by=("timestamps_are_plausible",),
        tests=(REQUESTS,),
        keyword=DESCRIBES,
    ),
    "success_content_type_text_plain": Catch(
        caught_by=("content_type_is_json",),
        tests=(REQUESTS,),
        keyword="test_a_valid_request_is_accepted and (DescribeAppInstance] or ListAppInstances])",
    ),
    "account_timestamps_as_epoch_numbers": Catch(
        caught_by=("timestamps_are_plausible", "response_matches_schema"),
        tests=(REQUESTS,),
        keyword="test_a_valid_request_is_accepted and (GetAccount or CreateAccount)",
    ),
    "last_updated_time_flickers": Catch(
        caught_by=("timestamps_monotonic",),
        machine=MachineProof("AppInstancesMachine", "timestamps_monotonic", _update_time_forgotten),
    ),
    # -- ARN format ------------------------------------------------------------
    "arns_in_another_region": Catch(
        caught_by=("arns_match_pattern",),
        tests=(REQUESTS,),
        keyword="test_a_valid_request_is_accepted and (CreateAppInstance] or DescribeAppInstance])",
    ),
    "bot_arns_of_unknown_kind": Catch(
        caught_by=("arns_match_pattern",),
        tests=(REQUESTS,),
        keyword="test_a_valid_request_is_accepted and (CreateAppInstanceBot or DescribeAppInstanceBot)",
    ),
    # -- read-after-write ------------------------------------------------------
    "app_instance_update_lost": Catch(
        caught_by=("read_after_write",),
        tests=(LIFECYCLE,),
        keyword="test_an_app_instance_reads_back_as_created_and_as_updated",
        machine=MachineProof("AppInstancesMachine", "read_after_write", _update_lost),
    ),
    "user_reads_are_stale": Catch(
        caught_by=("read_after_write", "settings_read_back"),
        tests=(LIFECYCLE,),
        keyword="test_a_user_reads_back_with_its_expiration_settings",
    ),
    "bot_configuration_update_lost": Catch(
        caught_by=("read_after_write",),
        tests=(LIFECYCLE,),
        keyword="test_a_bot_reads_back_with_its_configuration",
    ),
    # -- delete and cascade ----------------------------------------------------
    "deregistered_endpoint_lingers": Catch(
        caught_by=DELETE_CHECKS,
        tests=(LIFECYCLE,),
        keyword="test_an_endpoint_reads_back_as_registered_and_updated",
    ),
    "deleted_account_lingers": Catch(
        caught_by=DELETE_CHECKS,
        tests=(LIFECYCLE,),
        keyword=ACCOUNT_LIFECYCLE,
    ),
    "cascade_keeps_users": Catch(
        caught_by=CASCADE_CHECKS,
        tests=(LIFECYCLE,),
        keyword="test_deleting_an_app_instance_removes_everything_in_it",
        # unshrunk: MembersMachine's shrinking took ~290 replays, 45 of the case's 55 s
        machine=MachineProof("MembersMachine", "cascade", _still_there),
    ),
    "cascade_keeps_endpoints": Catch(
        caught_by=CASCADE_CHECKS,
        tests=(LIFECYCLE,),
        keyword="test_deleting_an_app_instance_removes_everything_in_it",
    ),
    "deleted_user_lingers": Catch(
        caught_by=("delete_is_final",),
        machine=MachineProof("MembersMachine", "delete_is_final", _still_there),
    ),
    # -- pagination ------------------------------------------------------------
    "pagination_skips_an_item": Catch(
        caught_by=("pagination",),
        tests=(LIFECYCLE,),
        keyword=PAGE_WALK,
    ),
    "pagination_repeats_an_item": Catch(
        caught_by=("pagination",),
        tests=(LIFECYCLE,),
        keyword=PAGE_WALK,
    ),
    "pages_exceed_max_results": Catch(
        caught_by=("pagination",),
        tests=(LIFECYCLE,),
        keyword=PAGE_WALK,
    ),
    "forged_next_token_accepted": Catch(
        caught_by=("pagination",),
        tests=(LIFECYCLE,),
        keyword="test_a_forged_next_token_is_refused",
    ),
    "next_token_on_last_page": Catch(
        caught_by=("pagination",),
        tests=(EDGES,),
        keyword="last_page",
    ),
    "list_accounts_drops_next_token": Catch(
        caught_by=("list_matches_model",),
        machine=MachineProof(
            "AccountsMachine",
            "list_matches_model",
            lambda replay: "NextToken" not in _last(replay).answer,
            shrink=True,
        ),
    ),
    # -- idempotency -----------------------------------------------------------
    "client_request_token_ignored": Catch(
        caught_by=("idempotency",),
        tests=(LIFECYCLE,),
        keyword="idempotent or replayed_create",
        machine=MachineProof("AppInstancesMachine", "idempotency", _created_anew),
    ),
    "token_reuse_with_other_parameters_replays": Catch(
        caught_by=("idempotency",),
        tests=(LIFECYCLE,),
        keyword="replayed_create",
    ),
    # -- tags ------------------------------------------------------------------
    # test_tags_are_stored_merged_and_removed overwrites every key it had, so a
    # replacing TagResource passes its read-backs: keeps_the_other_tags notices,
    # and the 50-tag limit test (its 50 new keys replace the old ones, no 51st)
    "tag_resource_replaces_tags": Catch(
        caught_by=("tags_read_back", "tag_limit"),
        tests=(LIFECYCLE, EDGES),
        keyword="test_tags_are_stored_merged_and_removed or keeps_the_other_tags",
    ),
    "create_tags_dropped": Catch(
        caught_by=("tags_read_back",),
        tests=(LIFECYCLE,),
        keyword=TAGS_READ_BACK,
    ),
    "untag_ignored": Catch(
        caught_by=("tags_read_back",),
        tests=(LIFECYCLE,),
        keyword=TAGS_READ_BACK,
    ),
    "tag_limit_unenforced": Catch(
        caught_by=("tag_limit",),
        tests=(LIFECYCLE,),
        keyword=TAGS_READ_BACK,
    ),
    # -- settings --------------------------------------------------------------
    "retention_settings_not_stored": Catch(
        caught_by=("settings_read_back",),
        tests=(LIFECYCLE,),
        keyword="test_retention_settings_read_back",
    ),
    "expiration_settings_never_cleared": Catch(
        caught_by=("settings_read_back",),
        tests=(LIFECYCLE,),
        keyword="test_a_user_reads_back_with_its_expiration_settings",
    ),
    # -- admins ----------------------------------------------------------------
    "admin_of_another_app_instance_accepted": Catch(
        caught_by=("admins",),
        tests=(LIFECYCLE,),
        keyword="test_a_user_of_another_app_instance_cannot_be_promoted",
    ),
    "demotion_deletes_the_user": Catch(
        # the user's Describe is verified (valid_input_accepted: a 404 for a user
        # that should exist) before the admins verdict is recorded
        caught_by=("admins", "valid_input_accepted"),
        tests=(LIFECYCLE,),
        keyword="test_demoting_an_admin_keeps_the_user",
    ),
    # -- endpoints -------------------------------------------------------------
    "endpoint_found_under_any_user": Catch(
        caught_by=("missing_resource_reported",),
        tests=(MISSING,),
        keyword="AppInstanceUserEndpoint-AppInstanceUserArn",
    ),
    "endpoint_update_lost": Catch(
        caught_by=("read_after_write",),
        tests=(LIFECYCLE,),
        keyword="test_an_endpoint_reads_back_as_registered_and_updated",
    ),
    # -- auth ------------------------------------------------------------------
    "unsigned_requests_accepted": Catch(
        caught_by=("auth_enforced",),
        tests=(REQUESTS,),
        keyword=auth_slice("unsigned"),
    ),
    "signatures_not_compared": Catch(
        caught_by=("auth_enforced",),
        tests=(REQUESTS,),
        keyword=auth_slice("bad-signature"),
    ),
    "any_region_accepted": Catch(
        caught_by=("auth_enforced",),
        tests=(REQUESTS,),
        keyword=auth_slice("other-region"),
    ),
    "stale_signatures_accepted": Catch(
        caught_by=("auth_enforced",),
        tests=(REQUESTS,),
        keyword=auth_slice("stale-date"),
    ),
    # -- accounts --------------------------------------------------------------
    "account_status_missing": Catch(
        caught_by=("read_after_write",),
        tests=(LIFECYCLE,),
        keyword=ACCOUNT_LIFECYCLE,
    ),
    "unknown_license_listed": Catch(
        caught_by=("response_matches_schema",),
        tests=(REQUESTS,),
        keyword="test_a_valid_request_is_accepted and (GetAccount or CreateAccount)",
    ),
    "team_account_deletion_refused": Catch(
        caught_by=("valid_input_accepted",),
        tests=(LIFECYCLE,),
        keyword=ACCOUNT_LIFECYCLE,
    ),
    "default_license_update_lost": Catch(
        caught_by=("read_after_write",),
        tests=(EDGES,),
        keyword="default_license",
    ),
    # -- robustness ------------------------------------------------------------
    "server_error_on_non_ascii": Catch(
        caught_by=("not_a_server_error",),
        tests=(LIFECYCLE,),
        keyword="test_an_app_instance_reads_back_as_created_and_as_updated",
    ),
    "server_error_on_largest_page": Catch(
        caught_by=("not_a_server_error",),
        tests=(REQUESTS,),
        keyword="ListAppInstances:MaxResults:maximum:inside or ListAccounts:MaxResults:maximum:inside",
    ),
    "list_tags_server_error": Catch(
        caught_by=("not_a_server_error",),
        machine=MachineProof(
            "AppInstancesMachine",
            "not_a_server_error",
            lambda replay: _last(replay).status == 500,
            shrink=True,
        ),
    ),
    "session_tokens_not_verified": Catch(
        caught_by=("session_token_verified",),
        tests=(REQUESTS,),
        keyword=auth_slice("bogus-session-token"),
    ),
    "presigned_requests_unsigned": Catch(
        caught_by=("presigned_request_verified",),
        tests=("conformance/test_auth.py",),
        keyword="test_a_presigned_read_is_accepted",
    ),
    "presigned_expiry_ignored": Catch(
        caught_by=("presigned_request_verified",),
        tests=("conformance/test_auth.py",),
        keyword="test_an_expired_presigned_read_is_refused",
    ),
    "canonical_uri_encoded_once": Catch(
        caught_by=("signed_request_authenticated",),
        tests=(REQUESTS,),
        keyword="test_a_valid_request_is_accepted and DescribeAppInstance]",
    ),
    "users_never_expire": Catch(
        caught_by=("user_expiration",),
        tests=("conformance/test_expiration.py",),
    ),
    # -- promises shared by a class of operations (chime_conformance.checks.promises)
    "retention_settings_of_the_last_put": Catch(
        caught_by=("reads_are_isolated",),
        tests=(PROMISES,),
        keyword=promise_slice(
            "test_a_read_shows_only_the_resource_it_names", "GetAppInstanceRetentionSettings"
        ),
    ),
    "deleted_bots_stay_listed": Catch(
        caught_by=("deleted_not_listed",),
        tests=(PROMISES,),
        keyword=promise_slice("test_a_deleted_member_leaves_its_list", "ListAppInstanceBots"),
    ),
    "bot_pages_restart": Catch(
        caught_by=("pagination",),
        tests=(PROMISES,),
        keyword=promise_slice("test_every_list_pages_to_the_end", "ListAppInstanceBots"),
    ),
    "bot_token_ignored": Catch(
        caught_by=("idempotency",),
        tests=(PROMISES,),
        keyword=promise_slice("test_every_token_replays_to_one_resource", "CreateAppInstanceBot"),
    ),
    "user_create_tags_dropped": Catch(
        caught_by=("read_after_write",),
        tests=(PROMISES,),
        keyword=promise_slice("test_every_written_member_reads_back", "CreateAppInstanceUser"),
    ),
    "update_account_answers_the_old_account": Catch(
        caught_by=("answer_is_current",),
        tests=(PROMISES,),
        keyword=promise_slice("test_every_written_member_reads_back", "UpdateAccount"),
    ),
    "bot_reads_cached_past_cascade": Catch(
        caught_by=("cascade",),
        tests=(PROMISES,),
        keyword=promise_slice(
            "test_a_read_made_before_a_delete_is_not_served_after", "DescribeAppInstanceBot"
        ),
    ),
    "request_id_missing_on_errors": Catch(
        caught_by=("request_id_present",),
        tests=(MISSING,),
        keyword=ERROR_ANSWERS,
    ),
    # -- concurrency: rules that break only under overlap ----------------------
    "overlapping_user_creates_both_succeed": Catch(
        caught_by=("concurrent_outcomes_allowed",),
        tests=(CONCURRENCY,),
        keyword=promise_slice(
            "test_overlapping_creates_of_one_id_make_one", "CreateAppInstanceUser"
        ),
        machine=MachineProof(
            "OverlapsMachine", "concurrent_outcomes_allowed", _one_id_created_twice
        ),
    ),
    "overlapping_token_replays_create_twice": Catch(
        caught_by=("concurrent_outcomes_allowed",),
        tests=(CONCURRENCY,),
        keyword=promise_slice(
            "test_overlapping_replays_of_one_token_make_one", "CreateAppInstance"
        ),
    ),
    "overlapping_tag_writes_lose_keys": Catch(
        caught_by=("concurrent_outcomes_allowed",),
        tests=(CONCURRENCY,),
        keyword=promise_slice("test_overlapping_tagging_keeps_every_key", "TagResource"),
    ),
    "child_created_during_delete_orphaned": Catch(
        caught_by=("concurrent_outcomes_allowed",),
        tests=(CONCURRENCY,),
        keyword=promise_slice(
            "test_a_member_created_during_its_app_instances_deletion_is_no_orphan",
            "CreateAppInstanceUser",
        ),
    ),
    # -- other tenants: a second identity, in another account -----------------
    "other_account_writes_applied": Catch(
        caught_by=("other_account_unseen",),
        tests=(TENANTS,),
        keyword=promise_slice(
            "test_another_account_is_refused_and_changes_nothing", "UpdateAppInstance"
        ),
    ),
}
