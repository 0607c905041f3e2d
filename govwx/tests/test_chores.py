"""The registry of periodic chores the desk's loop runs for other apps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from govwx.lib import chores


@pytest.fixture
def clean() -> Iterator[None]:
    saved = dict(chores._chores)
    chores._chores.clear()
    yield
    chores._chores.clear()
    chores._chores.update(saved)


def test_a_chore_runs_once_per_interval_and_a_failure_stops_nothing(clean: None) -> None:
    ran: list[str] = []

    def boom() -> None:
        ran.append("boom")
        raise RuntimeError("down")

    chores.register("a", lambda: ran.append("a"), every=30)
    chores.register("b", boom, every=10)
    assert chores.run_due(now=100.0) == ["a", "b"]
    assert chores.run_due(now=105.0) == []
    assert chores.run_due(now=111.0) == ["b"]
    assert chores.run_due(now=131.0) == ["a", "b"]
    assert ran == ["a", "boom", "boom", "a", "boom"]
