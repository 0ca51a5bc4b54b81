"""Pagination: following NextToken does not visit every item exactly once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chime_conformance.emulator.app import EmulatorApp
from chime_conformance.emulator.exceptions import BadRequestException
from chime_conformance.emulator.faults.registry import fault
from chime_conformance.emulator.hooks import Handler
from chime_conformance.emulator.pagination import Page, PageTokens

PageMethod = Callable[..., Page[Any]]


def wrap_pages(app: EmulatorApp, wrapper: Callable[[PageTokens, PageMethod], PageMethod]) -> None:
    """Replace how one page of a list is cut (``PageTokens.page``)."""
    app.backend.wrap_page_tokens("page", wrapper)


def wrap_positions(
    app: EmulatorApp, wrapper: Callable[[PageTokens, Callable[[str, str], int]], Any]
) -> None:
    """Replace how a NextToken is read (``PageTokens.position``)."""
    app.backend.wrap_page_tokens("position", wrapper)


@fault(
    "pagination_skips_an_item",
    category="pagination",
    breaks="Following NextToken visits every item exactly once (docs/contract.md pagination); here "
    "each later page loses its first item.",
)
def _pagination_skips_an_item(app: EmulatorApp) -> None:
    def wrapper(tokens: PageTokens, original: PageMethod) -> PageMethod:
        def page(listing: str, items: Any, max_results: int, next_token: str | None) -> Any:
            got = original(listing, items, max_results, next_token)
            return Page(got.items[1:], got.next_token) if next_token else got

        return page

    wrap_pages(app, wrapper)


@fault(
    "pagination_repeats_an_item",
    category="pagination",
    breaks="Following NextToken visits every item exactly once (docs/contract.md pagination); here "
    "each later page starts again with the last item of the page before.",
)
def _pagination_repeats_an_item(app: EmulatorApp) -> None:
    # positions are sequence numbers: one less takes in the item the token points after
    wrap_positions(
        app, lambda tokens, position: lambda listing, token: position(listing, token) - 1
    )


@fault(
    "pages_exceed_max_results",
    category="pagination",
    breaks="A page never holds more than MaxResults items (docs/contract.md pagination); here it "
    "holds one more.",
)
def _pages_exceed_max_results(app: EmulatorApp) -> None:
    wrap_pages(
        app,
        lambda tokens, original: (
            lambda listing, items, max_results, token: original(
                listing, items, max_results + 1, token
            )
        ),
    )


@fault(
    "forged_next_token_accepted",
    category="pagination",
    breaks="A NextToken the service did not issue is a 400 (docs/contract.md pagination); here it "
    "is read as the start of the list.",
)
def _forged_next_token_accepted(app: EmulatorApp) -> None:
    def wrapper(tokens: PageTokens, position: Callable[[str, str], int]) -> Any:
        def lenient(listing: str, token: str) -> int:
            try:
                return position(listing, token)
            except BadRequestException:
                return -1

        return lenient

    wrap_positions(app, wrapper)


@fault(
    "next_token_on_last_page",
    category="pagination",
    breaks="The last page carries no NextToken (docs/contract.md pagination); here it carries one, "
    "which leads to an empty page.",
)
def _next_token_on_last_page(app: EmulatorApp) -> None:
    def wrapper(tokens: PageTokens, original: PageMethod) -> PageMethod:
        def page(listing: str, items: Any, max_results: int, next_token: str | None) -> Any:
            got = original(listing, items, max_results, next_token)
            if got.next_token is None and got.items:
                return Page(got.items, tokens.issue(listing, got.items[-1].seq))
            return got

        return page

    wrap_pages(app, wrapper)


@fault(
    "list_accounts_drops_next_token",
    category="pagination",
    breaks="A page that is not the last carries a NextToken (docs/contract.md pagination); here "
    "ListAccounts never sends one, so a caller sees only the first page.",
)
def _list_accounts_drops_next_token(app: EmulatorApp) -> None:
    def wrapper(original: Handler) -> Handler:
        def handle(backend: Any, members: dict[str, Any]) -> Any:
            body = original(backend, members)
            body.pop("NextToken", None)
            return body

        return handle

    app.hooks.wrap_handler("ListAccounts", wrapper)
