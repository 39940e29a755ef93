"""`archive keys ...`: master-key rotation and status."""

import click


@click.group()
def keys() -> None:
    """Manage master keys (rotation re-wraps data keys; objects are not re-encrypted)."""


COMMANDS: list[click.Command] = [keys]
