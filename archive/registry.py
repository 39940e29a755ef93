"""The feature registry: how a package adds roles, permissions, events and jobs to the archive.

Each feature (the core, capture, and packages such as retention that archive must not import) declares
one `Feature` in its `feature.py` and names it under the `archive.features` entry-point group in
pyproject.toml. Bootstrap and the access policy read the registry; nothing is registered by importing
a module. CLI commands of packages outside archive (`archive serve` from web, `archive retention` from
retention) are named under the `archive.commands` group, which only the `archive` command reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any, Protocol

from archive.ports import DispositionGuard, FilingCheck, KeyHolder, Lending

FEATURES_GROUP = "archive.features"
COMMANDS_GROUP = "archive.commands"
CORE = "archive"


class TaskRegistry(Protocol):
    """What a feature's `tasks.register` receives to declare its jobs (archive.jobs.JobQueue)."""

    def task(self, name: str, *, coalesce: bool = False,
             **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a queued task under name (Huey options: retries, retry_delay, retry_backoff, context);
        coalesce: queued at most once while it waits (archive.jobs)."""
        ...

    def periodic(self, name: str, **cron: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
        """Register a task every long-running worker schedules (cron fields in UTC: minute, hour, ...)."""
        ...

    def on_start(self, name: str) -> None:
        """Queue the registered task name whenever a worker starts (re-queue what a crash left)."""
        ...

    def lock(self, name: str) -> AbstractContextManager[None]:
        """A lock shared by every worker of the queue, so a periodic task runs once at a time."""
        ...

    def enqueue(self, task: str, *args: Any) -> None: ...

    def enqueue_anew(self, task: str) -> None:
        """Queue a coalescing task even if a run seems to wait (one a crash lost leaves its flag)."""
        ...


NewUnitOfWork = Callable[[], Any]  # archive.unit_of_work.UnitOfWork, typed where it is used
Login = tuple[str, str, str]  # a demo account: username, password, what it is


@dataclass(frozen=True)
class Feature:
    name: str
    roles: tuple[str, ...] = ()  # roles this feature introduces
    permissions: tuple[str, ...] = ()  # every permission it declares
    grants: Mapping[str, frozenset[str]] = field(default_factory=dict)  # role -> permissions held by default
    events: tuple[str, ...] = ()  # every audit event type it records
    tasks: Callable[[TaskRegistry, NewUnitOfWork], None] | None = None
    disposition_guard: Callable[[], DispositionGuard] | None = None
    filing_checks: tuple[Callable[[], FilingCheck], ...] = ()  # run on every document being filed
    # Called inside the filing transaction with (unit of work, actor, ids of the documents filed), e.g. to
    # start their retention clocks.
    on_filed: Callable[[Any, Any, list[int]], None] | None = None
    # Adds the feature's sample data to `archive demo` (after the core's customers and scans) and
    # returns the logins it created.
    demo: Callable[[NewUnitOfWork], list[Login]] | None = None
    # What is lent to whom, which the access policy and the search index honour, and the marks on what
    # is served under a grant (borrowing): archive.ports.Lending.
    lending: Callable[[], Lending] | None = None
    # The inbox kinds it sends (archive.services.inbox.notify): kind -> (Chinese, English) text, with
    # {param} fields formatted in.
    messages: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    # Its rows that hold wrapped data keys, for key rotation (archive/services/keys.py).
    key_holders: tuple[Callable[[], KeyHolder], ...] = ()
    # Reports the feature contributes to the reports pages (archive.reports.views.ReportDefinition values):
    # a package archive must not import (retention) adds its figures this way.
    reports: tuple[Any, ...] = ()


def vocabulary(module: ModuleType, prefix: str) -> tuple[str, ...]:
    """The values of a permissions.py or events.py module's `permission_*` / `event_*` names."""
    return tuple(value for name, value in vars(module).items() if name.startswith(prefix) and isinstance(value, str))


class RegistryError(RuntimeError):
    """The features are not registered: the package metadata (entry points) is missing."""


@cache
def features() -> tuple[Feature, ...]:
    """Every registered feature, the core first, then by name."""
    found = {ep.name: ep.load() for ep in entry_points(group=FEATURES_GROUP)}
    if CORE not in found:
        raise RegistryError(f"no {CORE!r} feature under the {FEATURES_GROUP!r} entry points: install the "
                            "package (`make venv`, or `pip install -e .`) so its metadata exists")
    return (found.pop(CORE), *(found[name] for name in sorted(found)))


@cache
def roles() -> tuple[str, ...]:
    return tuple(role for feature in features() for role in feature.roles)


@cache
def role_permissions() -> Mapping[str, frozenset[str]]:
    """Which permissions each role holds by default, over every feature."""
    granted: dict[str, set[str]] = {role: set() for role in roles()}
    for feature in features():
        for role, permissions in feature.grants.items():
            if role not in granted:
                raise RegistryError(f"feature {feature.name!r} grants permissions to unknown role {role!r}")
            granted[role] |= permissions
    return {role: frozenset(permissions) for role, permissions in granted.items()}


@cache
def event_types() -> tuple[str, ...]:
    return tuple(event for feature in features() for event in feature.events)


@cache
def messages() -> Mapping[str, tuple[str, str]]:
    """Every feature's inbox texts by kind; a kind declared twice is an error."""
    found: dict[str, tuple[str, str]] = {}
    for feature in features():
        for kind, texts in feature.messages.items():
            if kind in found:
                raise RegistryError(f"feature {feature.name!r} declares inbox kind {kind!r} again")
            found[kind] = texts
    return found


def filing_listeners() -> list[Callable[[Any, Any, list[int]], None]]:
    return [feature.on_filed for feature in features() if feature.on_filed is not None]


def filing_checks() -> list[FilingCheck]:
    return [make() for feature in features() for make in feature.filing_checks]


@cache
def lending() -> Lending | None:
    """The feature that lends documents (borrowing), if one is installed."""
    makers = [feature.lending for feature in features() if feature.lending is not None]
    if len(makers) > 1:
        raise RegistryError("more than one feature lends documents")
    return makers[0]() if makers else None


def key_holders() -> list[KeyHolder]:
    return [make() for feature in features() for make in feature.key_holders]


def reports() -> tuple[Any, ...]:
    """Every feature's report definitions, the core's first."""
    return tuple(report for feature in features() for report in feature.reports)


def disposition_guards() -> Iterator[DispositionGuard]:
    for feature in features():
        if feature.disposition_guard is not None:
            yield feature.disposition_guard()
