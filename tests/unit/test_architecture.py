"""The house rules that the import-linter contracts do not state: click only in entry points, the
feature registry as the one way a package plugs in, and the capture runner's contract."""

from __future__ import annotations

import click
import grimp
import pytest

from archive import registry
from archive.capture.runner import run_steps
from archive.cli import cli


def test_no_module_in_archive_outside_cli_and_demo_imports_click():
    graph = grimp.build_graph("archive", include_external_packages=True)
    offenders = sorted(
        module for module in graph.modules
        if module.startswith("archive") and not module.startswith(("archive.cli", "archive.demo"))
        and "click" in graph.find_modules_directly_imported_by(module)
    )
    assert offenders == []


def test_every_feature_is_found_through_the_registry_and_archive_imports_none_outside_it():
    names = [feature.name for feature in registry.features()]
    assert names[0] == "archive" and {"capture", "retention"} <= set(names)
    graph = grimp.build_graph("archive", "retention")
    assert not graph.chain_exists(importer="archive", imported="retention", as_packages=True)


def test_roles_hold_the_permissions_their_features_grant_and_only_declared_ones():
    granted = registry.role_permissions()
    assert "document.capture" in granted["clerk"] and "document.capture" not in granted["staff"]
    declared = {permission for feature in registry.features() for permission in feature.permissions}
    assert set().union(*granted.values()) <= declared
    assert set(granted) == set(registry.roles())


def test_event_types_are_declared_once_each():
    events = registry.event_types()
    assert len(events) == len(set(events)) and "document.captured" in events and "document.viewed" in events


def test_archive_serve_is_the_web_package_command_found_through_its_entry_point():
    with click.Context(cli) as ctx:
        serve = cli.get_command(ctx, "serve")
        assert serve is not None and serve.callback.__module__ == "web.cli"
        assert {"init", "ingest", "search", "verify", "keys", "ocr", "demo", "worker"} <= set(cli.list_commands(ctx))


class Recorder:
    def __init__(self, name: str, log: list[str], fail: BaseException | None = None) -> None:
        self.name, self.log, self.fail = name, log, fail

    def run(self, uow, ctx) -> None:  # noqa: ANN001
        self.log.append(f"run {self.name}")
        if self.fail is not None:
            raise self.fail

    def cleanup(self, uow, ctx, failed) -> None:  # noqa: ANN001
        self.log.append(f"cleanup {self.name}" + (" after failure" if failed else ""))


@pytest.mark.parametrize("error", [ValueError("bad page"), KeyboardInterrupt()])
def test_a_failing_step_cleans_up_every_started_step_in_reverse_and_the_error_propagates(error):
    log: list[str] = []
    steps = [Recorder("a", log), Recorder("b", log, fail=error), Recorder("c", log)]
    with pytest.raises(type(error)):
        run_steps(steps, None, None)  # type: ignore[arg-type]
    assert log == ["run a", "run b", "cleanup b after failure", "cleanup a after failure"]


def test_steps_that_all_succeed_are_still_cleaned_up_in_reverse_and_told_nothing_failed():
    log: list[str] = []
    run_steps([Recorder("a", log), Recorder("b", log)], None, None)  # type: ignore[arg-type]
    assert log == ["run a", "run b", "cleanup b", "cleanup a"]
