"""`archive verify` and `archive sweep`: fixity checks and removal of uncommitted objects."""

import click


@click.group(name="integrity", hidden=True)
def integrity() -> None:
    """Placeholder group; commands are added to the main group in cli.py."""


COMMANDS: list[click.Command] = []
