"""The `archive` command: thin click commands over services, one module per command group.

Commands of packages that archive must not import (`serve` from web, retention's group) are found
through the `archive.commands` entry points (registry.COMMANDS_GROUP) when the command line is parsed,
as Flask finds other packages' commands; importing this module registers nothing.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import click

from archive.cli.support import ArchiveGroup
from archive.registry import COMMANDS_GROUP


class ArchiveCommands(ArchiveGroup):
    """The root group: the built-in command modules and every registered package's commands, loaded
    on first use."""

    _loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        from archive.cli import (
            admin,
            audit,
            backup,
            borrow,
            capture,
            demo,
            filing,
            integrity,
            jobs,
            keys,
            ocr,
            search,
            security,
            watermark,
        )

        for module in (admin, capture, filing, search, borrow, jobs, integrity, keys, ocr, security, audit, backup,
                       demo, watermark):
            for command in module.COMMANDS:
                self.add_command(command)
        for entry_point in entry_points(group=COMMANDS_GROUP):
            self.add_command(entry_point.load(), entry_point.name)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load()
        return super().list_commands(ctx)


@click.group(cls=ArchiveCommands, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """客户档案管理系统 — customer-file archive.

    Configuration comes from ARCHIVE_* environment variables (see README); by default everything
    lives under ARCHIVE_HOME (~/.customer-archive).
    """


def main() -> None:
    """The console script. Domain errors end as one `error: …` line (support.ArchiveGroup)."""
    cli()
