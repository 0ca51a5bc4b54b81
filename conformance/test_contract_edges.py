"""Contract facts the other scenario tests leave unobserved.

Found by fault injection (``chime_conformance.emulator.faults``): an emulator
that put a NextToken on the last page, replaced a resource's tags on
TagResource, or dropped an UpdateAccount's DefaultLicense, passed every other
read-back. Each test here states one such fact.
"""

from __future__ import annotations

import pytest

from chime_conformance import checks

from .resources import Resources
from .scenario import Scenario, field_of

USERS = 4


@pytest.mark.parametrize("max_results", [2, USERS, 50])
def test_the_last_page_carries_no_next_token(
    scenario: Scenario, resources: Resources, max_results: int
) -> None:
    """docs/contract.md pagination: no NextToken on the last page. A token on it sends
    the client for one more, empty, page; every page a token leads to has items."""
    arn = resources.app_instance()
    for _ in range(USERS):
        resources.user(arn)
    pages = scenario.pages(
        "ListAppInstanceUsers", {"AppInstanceArn": arn}, "AppInstanceUsers", max_results
    )
    for number, (exchange, items) in enumerate(pages, start=1):
        scenario.expect(
            exchange,
            bool(items),
            check=checks.PAGINATION,
            fact="the last page carries no NextToken: a NextToken never leads to an empty page",
            received=f"page {number} is empty",
            documented=f"{-(-USERS // max_results)} non-empty page(s) of the {USERS} users",
        )


def test_an_account_reads_back_its_default_license(
    scenario: Scenario, resources: Resources
) -> None:
    """UpdateAccount's DefaultLicense reads back, for a supported license other
    than the one a new account starts with (whatever that is)."""
    account_id = resources.account()
    got = scenario.call("GetAccount", {"AccountId": account_id})
    account = field_of(got.json, "Account") or {}
    supported = account.get("SupportedLicenses") or []
    others = [name for name in supported if name != account.get("DefaultLicense")]
    for license in others[:1]:
        scenario.ok("UpdateAccount", {"AccountId": account_id, "DefaultLicense": license})
        got = scenario.call("GetAccount", {"AccountId": account_id})
        scenario.expect_fields(
            got,
            field_of(got.json, "Account") or {},
            {"DefaultLicense": license},
            check=checks.READ_AFTER_WRITE,
            what="Account",
        )


def test_tagging_keeps_the_other_tags(scenario: Scenario, resources: Resources) -> None:
    """docs/contract.md tags: TagResource merges; keys it does not name stay."""
    arn = resources.app_instance()  # with the run's tag, which must stay too
    scenario.ok("TagResource", {"ResourceARN": arn, "Tags": [{"Key": "first", "Value": "1"}]})
    scenario.ok("TagResource", {"ResourceARN": arn, "Tags": [{"Key": "second", "Value": "2"}]})
    listed = scenario.call("ListTagsForResource", {"ResourceARN": arn})
    tags = {t.get("Key"): t.get("Value") for t in field_of(listed.json, "Tags") or []}
    wanted = {tag["Key"]: tag["Value"] for tag in resources.run_tags()} | {
        "first": "1",
        "second": "2",
    }
    scenario.expect(
        listed,
        tags == wanted,
        check=checks.TAGS_READ_BACK,
        fact="TagResource merges: a key it does not name stays",
        received=tags,
        documented=wanted,
    )
