"""The step contract and the one runner that capture and page replacement share.

A step is an object with `run(uow, ctx)` and `cleanup(uow, ctx, failed)`. The runner runs the steps in
order over one context, stopping at the first that raises. Then the cleanup of every step that was
started runs, in reverse order, the one that raised included, whatever happened: `failed` says whether
a step raised (any error, KeyboardInterrupt too), and the error then propagates. A cleanup always
releases what its step holds for the run (temporary files); when the run failed it also undoes what its
step did (objects it stored). It must not raise for what was never done, and never commits: the step
that records in the database commits last, so once it has, nothing is undone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, Protocol, TypeVar

from archive.unit_of_work import UnitOfWork

C = TypeVar("C", contravariant=True)


class Step(Protocol, Generic[C]):
    def run(self, uow: UnitOfWork, ctx: C) -> None: ...

    def cleanup(self, uow: UnitOfWork, ctx: C, failed: bool) -> None: ...


def run_steps(steps: Sequence[Step[C]], uow: UnitOfWork, ctx: C) -> None:
    """Run steps in order over ctx; then clean up every started step in reverse, always; re-raise."""
    started: list[Step[C]] = []
    failed = True
    try:
        for step in steps:
            started.append(step)
            step.run(uow, ctx)
        failed = False
    finally:
        for step in reversed(started):
            step.cleanup(uow, ctx, failed)
