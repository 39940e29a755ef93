"""The step contract and the one runner that capture and page replacement share.

A step is an object with `run(uow, ctx)` and `cleanup(uow, ctx)`. The runner runs the steps in order
over one context. If any step raises, the cleanup of every step that was started runs in reverse order,
the one that raised included, whatever the error (KeyboardInterrupt too), and the error propagates.
A cleanup undoes only what its own step did (objects it stored), must not raise for what was never
done, and never commits: the step that records in the database commits last, so after it nothing
is left to undo.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, Protocol, TypeVar

from archive.unit_of_work import UnitOfWork

C = TypeVar("C", contravariant=True)


class Step(Protocol, Generic[C]):
    def run(self, uow: UnitOfWork, ctx: C) -> None: ...

    def cleanup(self, uow: UnitOfWork, ctx: C) -> None: ...


def run_steps(steps: Sequence[Step[C]], uow: UnitOfWork, ctx: C) -> None:
    """Run steps in order over ctx; on any error clean up every started step in reverse, then re-raise."""
    started: list[Step[C]] = []
    try:
        for step in steps:
            started.append(step)
            step.run(uow, ctx)
    except BaseException:
        for step in reversed(started):
            step.cleanup(uow, ctx)
        raise
