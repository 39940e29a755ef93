"""Who may act as USER on the command line (ASVS 2.1, 4.1.1): the person proves it.

With `--as USER` (or ARCHIVE_USER) a command needs that user's personal token (ARCHIVE_TOKEN, issued
by `archive token issue`) or their password, asked on the terminal and checked like a web login
(throttled and audited). ARCHIVE_CLI_TRUSTED=1 marks a host whose operator is trusted to name the
person (the server itself, tests). A deactivated account can do nothing, trusted host or not.
"""

from __future__ import annotations

from collections.abc import Callable

from archive.actors import Actor
from archive.errors import AuthenticationError
from archive.services import users
from archive.unit_of_work import UnitOfWork

NEEDS_CREDENTIAL = ("acting as {user!r} needs their personal token (ARCHIVE_TOKEN, see `archive token issue`) "
                    "or their password on a terminal; ARCHIVE_CLI_TRUSTED=1 only on a trusted host")


def resolve_cli_actor(new_uow: Callable[[], UnitOfWork], *, username: str, trusted: bool, token: str | None,
                      ask_password: Callable[[], str] | None) -> Actor:
    """The Actor for `--as username`, once the person has proved who they are. Raises AuthenticationError
    (or NotFoundError for an unknown or deactivated account on a trusted host)."""
    if token:
        return users.actor_for_token(new_uow(), username=username, token=token, remote_addr="cli")
    if trusted:
        return users.resolve_actor(new_uow(), username=username, remote_addr="cli")
    if ask_password is None:
        raise AuthenticationError(NEEDS_CREDENTIAL.format(user=username))
    return users.authenticate(new_uow(), username=username, password=ask_password(), remote_addr="cli")
