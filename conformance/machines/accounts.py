"""Amazon Chime accounts through random lifecycles: create, update, list by
name prefix, delete."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, consumes, initialize, invariant, precondition, rule

from chime_conformance import checks, strategies

from .harness import Machine, body_of, check, page_sizes, step
from .model import AccountRecord

LICENSES = ("Basic", "Plus", "Pro", "ProTrial")
ACCOUNT_STATUSES = ("Active", "Suspended")


def name_suffixes() -> Any:
    """What follows the machine's prefix in an account name (which has room for 100)."""
    return st.just("") | strategies.user_names(max_size=60)


class AccountsMachine(Machine):
    """Predicts the accounts this run creates: Get shows them as written,
    ListAccounts filtered by the run's name prefix lists exactly them, and a
    deleted account stays unreadable."""

    accounts = Bundle("accounts")

    def __init__(self) -> None:
        super().__init__()
        self.live: dict[str, AccountRecord] = {}
        self.deleted: set[str] = set()

    @initialize(size=page_sizes(maximum=200))
    @step
    def choose_page_size(self, size: int) -> None:
        self.page_size = size

    @rule(size=page_sizes(maximum=200))
    @step
    def change_page_size(self, size: int) -> None:
        self.page_size = size

    def _name(self, suffix: str) -> str:
        return f"{self.prefix} {suffix}".rstrip()

    @rule(target=accounts, suffix=name_suffixes())
    @step
    def create(self, suffix: str) -> str:
        name = self._name(suffix)
        account = self.scenario.ok("CreateAccount", {"Name": name}).get("Account") or {}
        account_id = str(account.get("AccountId"))
        self.live[account_id] = AccountRecord(account_id, name, None)
        return account_id

    @rule(
        account=accounts,
        suffix=st.none() | name_suffixes(),
        license=st.none() | st.sampled_from(LICENSES),
    )
    @step
    def update(self, account: str, suffix: str | None, license: str | None) -> None:
        """What the update leaves out stays as it was."""
        members = {
            "AccountId": account,
            **({"Name": self._name(suffix)} if suffix is not None else {}),
            **({"DefaultLicense": license} if license is not None else {}),
        }
        self.scenario.ok("UpdateAccount", members)
        record = self.live[account]
        record.name = members.get("Name", record.name)
        record.default_license = license or record.default_license

    @rule(account=consumes(accounts))
    @step
    def delete(self, account: str) -> None:
        self.scenario.ok("DeleteAccount", {"AccountId": account})
        self.gone_within_bound(
            "GetAccount",
            {"AccountId": account},
            check=checks.DELETE_IS_FINAL,
            what="a deleted account",
        )
        del self.live[account]
        self.deleted.add(account)

    @invariant()
    @check
    def accounts_read_back_as_modelled(self) -> None:
        for account_id, record in self.live.items():
            got = self.scenario.call("GetAccount", {"AccountId": account_id})
            account = body_of(got, "Account") or {}
            self.matches(got, account, record.describes_as(), what="Account")
            self._status_present(got, account)
            self.timestamps_move_forward(got, account, record.seen, what="Account")

    def _status_present(self, exchange: Any, account: dict[str, Any]) -> None:
        self.expect(
            exchange,
            account.get("AccountStatus") in ACCOUNT_STATUSES,
            check=checks.READ_AFTER_WRITE,
            fact="Account.AccountStatus is Active or Suspended (seed 003)",
            received=account.get("AccountStatus"),
            documented=" | ".join(ACCOUNT_STATUSES),
        )

    @invariant()
    @check
    def listing_by_name_prefix_shows_exactly_the_model(self) -> None:
        listed = self.walk(
            "ListAccounts",
            {"Name": self.prefix},
            "Accounts",
            lambda item: item.get("AccountId"),
            expected=self.live,
        )
        for account_id, item in listed.items():
            if account_id in self.live:
                wanted = self.live[account_id].describes_as()
                self.matches(self.log.exchanges[-1], item, wanted, what="ListAccounts item")
                self._status_present(self.log.exchanges[-1], item)

    @precondition(lambda self: bool(self.deleted))
    @invariant()
    @check
    def deleted_accounts_stay_unreadable(self) -> None:
        for account_id in sorted(self.deleted):
            self.missing(
                "GetAccount",
                {"AccountId": account_id},
                check=checks.DELETE_IS_FINAL,
                what="a deleted account",
            )

    def leftovers(self) -> list[tuple[str, dict[str, Any]]]:
        return [("DeleteAccount", {"AccountId": account_id}) for account_id in self.live]
