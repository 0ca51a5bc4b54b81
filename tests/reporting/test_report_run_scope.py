"""What ran, in words: complete, a selection, interrupted after k of N, the
target gone; and a merge of shards that says whether all of them are there."""

from __future__ import annotations

import pytest

from chime_conformance.reporting.run_scope import (
    COMPLETE,
    INTERRUPTED,
    STOPPED_EARLY,
    TARGET_GONE,
    RunScope,
    Selection,
    merged_scope,
)


def test_only_a_complete_unnarrowed_run_is_not_partial() -> None:
    assert not RunScope(COMPLETE, 1009, 1009).partial
    assert RunScope(COMPLETE, 1009, 1009).summary == "complete: all 1009 tests of the suite ran"
    assert RunScope(COMPLETE, 4, 4, ("-k valid",)).partial
    for state in (INTERRUPTED, TARGET_GONE, STOPPED_EARLY):
        assert RunScope(state, 208, 1009).partial


@pytest.mark.parametrize(
    ("scope", "words"),
    [
        (
            RunScope(INTERRUPTED, 208, 1009),
            "interrupted after 208 of 1009 tests (Ctrl-C or SIGTERM)",
        ),
        (
            RunScope(TARGET_GONE, 25, 40, reason="127.0.0.1:9 sent no answer within 1 s"),
            "stopped because the target went away, after 25 of 40 tests: 127.0.0.1:9 sent no answer",
        ),
        (RunScope(STOPPED_EARLY, 3, 40), "stopped early (-x or --maxfail) after 3 of 40 tests"),
        (
            RunScope(COMPLETE, 4, 4, ("-k valid", "--operations Accounts")),
            "a selection (-k valid; --operations Accounts): 4 of 4 tests selected ran",
        ),
    ],
)
def test_each_scope_says_what_ran(scope: RunScope, words: str) -> None:
    assert scope.summary.startswith(words)
    assert scope.label("score 100.0%") == f"PARTIAL RUN ({scope.summary}): score 100.0%"
    assert RunScope.from_json(scope.to_json()) == scope


def test_the_selection_names_each_option() -> None:
    selection = Selection(keyword="valid", markers="slow", operations="Bots", shard="2/4",
                          paths=["test_auth.py"])  # fmt: skip
    assert selection.items() == (
        "-k valid", "-m slow", "--operations Bots", "--shard 2/4", "only test_auth.py",
    )  # fmt: skip


def test_all_shards_merged_make_a_complete_run_and_a_missing_one_does_not() -> None:
    shards = [
        RunScope(COMPLETE, 250, 250, ("--shard 1/2",)),
        RunScope(COMPLETE, 259, 259, ("--shard 2/2",)),
    ]
    whole = merged_scope(shards, {"total": 2, "indices": [1, 2]})
    assert whole == RunScope(COMPLETE, 509, 509)
    assert not whole.partial
    half = merged_scope(shards[:1], {"total": 2, "indices": [1]})
    assert half.partial and "(missing 2)" in half.summary
    worst = merged_scope([shards[0], RunScope(INTERRUPTED, 10, 259, ("--shard 2/2",))],
                         {"total": 2, "indices": [1, 2]})  # fmt: skip
    assert worst.state == INTERRUPTED and worst.summary.startswith("interrupted after 260 of 509")
