"""Where a batch of the desk's intake spends its CPU, in-process: runs
`bench/intake_bench.py` with each step of `take_in_pending` timed in CPU time (robust to
other load on the machine) and prints the median per batch of each.

    .venv/bin/python bench/lock_profile.py --messages 30000 --media 0.1

"lock held" is the CPU spent while the database's write lock is held (the statements
inside the batch's transaction and its commit): what callbacks queue behind.
"""

from __future__ import annotations

import collections
import contextlib
import os
import runpy
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govwx.settings")

import django  # noqa: E402

TIMES: dict[str, list[float]] = collections.defaultdict(list)


def timed(module: Any, name: str, label: str | None = None) -> None:
    fn: Callable[..., Any] = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            TIMES[label or name].append(time.process_time() - start)

    setattr(module, name, wrapper)


def instrument() -> None:
    from django.db.backends.base import base

    from govwx.desk import services, topics

    for name in ("_Batch", "_take_in", "_insert", "_open_cases", "_update_cases",
                 "_pending", "_advance_cursor", "announce_new_cases"):  # fmt: skip
        timed(services, name)
    timed(topics, "write", "topics.write")
    serialized = services.serialized_writes

    @contextlib.contextmanager
    def held(*args: Any, **kwargs: Any) -> Iterator[None]:
        with serialized(*args, **kwargs):
            start = time.process_time()
            yield
        TIMES["lock held (incl. commit)"].append(time.process_time() - start)

    services.serialized_writes = held
    commit = base.BaseDatabaseWrapper.commit

    def timed_commit(self: Any) -> None:
        start = time.process_time()
        commit(self)
        TIMES["commit"].append(time.process_time() - start)

    base.BaseDatabaseWrapper.commit = timed_commit  # type: ignore[method-assign]


def main() -> None:
    setup = django.setup

    def setup_and_instrument(*args: Any, **kwargs: Any) -> None:
        setup(*args, **kwargs)
        instrument()

    django.setup = setup_and_instrument
    sys.argv = ["intake_bench.py", *sys.argv[1:]]
    try:
        runpy.run_path(os.path.join(os.path.dirname(__file__), "intake_bench.py"),
                       run_name="__main__")  # fmt: skip
    finally:
        for name, values in sorted(TIMES.items(), key=lambda kv: -sum(kv[1])):
            print(f"{name:26s} n={len(values):5d}  median {1000 * statistics.median(values):6.2f} ms"
                  f"  total {sum(values):6.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
