"""The background job queue on Huey: SQLite storage embedded, Redis scale-out.

The queue knows no task of its own: each feature's `tasks.register` declares its queued and periodic
tasks on it (registry.TaskRegistry), and services queue them by name through the unit of work
(ports.Jobs). Every long-running consumer (`archive worker`, and `archive serve` embedded) schedules
the periodic tasks, which take a queue-wide lock so one runs at a time, and runs the start-up tasks
(re-queueing what a crash left) as it starts consuming.

A task registered with coalesce=True waits in the queue at most once: queueing it again before the
waiting run starts does nothing, since that run starts later and sees the caller's committed work.
Such a task takes no arguments and finds its work in the database (the search outbox's drain).
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from huey import RedisHuey, SqliteHuey, crontab
from huey.api import Huey, TaskWrapper
from huey.consumer import Consumer

from archive.config import Settings


def build_huey(settings: Settings) -> Huey:
    if settings.queue == "redis":
        return RedisHuey("archive", url=settings.redis_url)
    settings.queue_path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("archive", filename=str(settings.queue_path), timeout=30)


class JobQueue:
    """One Huey instance per process and the tasks the features registered on it; the tasks open their
    units of work with new_uow.

    task_options override a task's registered options by name (tests shorten retry delays with it).
    """

    def __init__(self, settings: Settings, new_uow: Callable[[], Any], *,
                 task_options: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.huey = build_huey(settings)
        self.new_uow = new_uow
        self._task_options = task_options or {}
        self._tasks: dict[str, TaskWrapper] = {}
        self._start: list[str] = []
        self._coalesced: set[str] = set()

    # --- what features register (registry.TaskRegistry) ---------------------------------------------

    def task(self, name: str, *, coalesce: bool = False,
             **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(function: Callable[..., Any]) -> Callable[..., Any]:
            run = function
            if coalesce:
                self._coalesced.add(name)

                @functools.wraps(function)
                def run() -> Any:
                    self.huey.delete(_waiting(name))  # before the work is read: later callers queue anew
                    return function()

            self._add(name, self.huey.task(name=name, **{**options, **self._task_options.get(name, {})})(run))
            return function

        return register

    def periodic(self, name: str, **cron: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
        def register(function: Callable[[], Any]) -> Callable[[], Any]:
            self._add(name, self.huey.periodic_task(crontab(**cron), name=name)(function))
            return function

        return register

    def on_start(self, name: str) -> None:
        self._start.append(name)

    @contextmanager
    def lock(self, name: str) -> Iterator[None]:
        with self.huey.lock_task(name):
            yield

    def _add(self, name: str, wrapper: TaskWrapper) -> None:
        if name in self._tasks:
            raise ValueError(f"two tasks are registered as {name!r}")
        self._tasks[name] = wrapper

    # --- what services and entry points use ---------------------------------------------------------

    def enqueue(self, task: str, *args: Any) -> None:
        """Queue the task (a coalescing one only when no run of it waits)."""
        wrapper = self._tasks[task]
        if task not in self._coalesced:
            wrapper(*args)
        elif self.huey.put_if_empty(_waiting(task), True):
            try:
                wrapper(*args)
            except BaseException:
                with contextlib.suppress(Exception):  # the queue is down: the flag may stay (see enqueue_anew)
                    self.huey.delete(_waiting(task))
                raise

    def enqueue_anew(self, task: str) -> None:
        """Queue the task even if a run seems to wait: the run a crash or an outage lost leaves its flag
        behind, so the periodic and start-up queueing of a coalescing task come through here."""
        if task in self._coalesced:
            self.huey.delete(_waiting(task))
        self.enqueue(task)

    def call_local(self, task: str, *args: Any) -> Any:
        """Run a registered task here and now, outside the queue (tests, `--wait`)."""
        return self._tasks[task].call_local(*args)

    def start(self) -> None:
        """Queue every start-up task (a consumer is starting): what a crash between a commit and its
        enqueue left behind gets queued again. Tasks are idempotent."""
        for name in self._start:
            self.enqueue_anew(name)

    def consumer(self, workers: int, *, periodic: bool = False) -> Consumer:
        """A thread consumer for embedding in another program (`serve`, `ingest --wait`)."""
        consumer = self.huey.create_consumer(workers=workers, worker_type="thread", periodic=periodic)
        # Huey installs process signal handlers on start; embedded in `serve` or `ingest --wait`
        # the host program owns the signals, so leave them alone.
        consumer._set_signal_handlers = lambda: None  # type: ignore[method-assign]
        return consumer

    def pending(self) -> int:
        return self.huey.pending_count() + self.huey.scheduled_count()

    def run_until(self, done: Callable[[], bool], *, workers: int = 2, timeout: float = 600.0,
                  poll: float = 0.2, on_tick: Callable[[], None] | None = None) -> bool:
        """Process jobs in this process until done() is true; return False on timeout."""
        consumer = self.consumer(workers)
        consumer.start()
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if on_tick:
                    on_tick()
                if done():
                    return True
                time.sleep(poll)
            return False
        finally:
            consumer.stop(graceful=True)

    def run_pending(self, *, workers: int = 2, timeout: float = 600.0) -> bool:
        """Process jobs until the queue is empty and nothing is in flight."""
        return self.run_until(
            lambda: self.pending() == 0 and not self.huey._tasks_in_flight, workers=workers, timeout=timeout
        )


def _waiting(task: str) -> str:
    """The queue-storage key saying a run of a coalescing task waits in the queue."""
    return f"waiting:{task}"
