"""The background job queue on Huey: SQLite storage embedded, Redis scale-out.

The queue knows no task of its own: each feature's `tasks.register` declares its queued and periodic
tasks on it (registry.TaskRegistry), and services queue them by name through the unit of work
(ports.Jobs). Every long-running consumer (`archive worker`, and `archive serve` embedded) schedules
the periodic tasks, which take a queue-wide lock so one runs at a time, and runs the start-up tasks
(re-queueing what a crash left) as it starts consuming.
"""

from __future__ import annotations

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

    # --- what features register (registry.TaskRegistry) ---------------------------------------------

    def task(self, name: str, **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(function: Callable[..., Any]) -> Callable[..., Any]:
            self._add(name, self.huey.task(name=name, **{**options, **self._task_options.get(name, {})})(function))
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
        self._tasks[task](*args)

    def call_local(self, task: str, *args: Any) -> Any:
        """Run a registered task here and now, outside the queue (tests, `--wait`)."""
        return self._tasks[task].call_local(*args)

    def start(self) -> None:
        """Queue every start-up task (a consumer is starting): what a crash between a commit and its
        enqueue left behind gets queued again. Tasks are idempotent."""
        for name in self._start:
            self.enqueue(name)

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
