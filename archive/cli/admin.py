"""`archive init`, `archive user ...`, `archive department ...`: operator commands on the server host,
acting as the named system actor `system:cli`."""

from __future__ import annotations

import secrets

import click

from archive import registry
from archive.actors import OPERATOR
from archive.cli.support import archive_of
from archive.compliance.services import signer_for
from archive.roles import SYSTEM_ADMIN
from archive.services import reference, users


@click.command()
@click.option("--admin", "admin_name", default="admin", show_default=True, help="First administrator's name.")
@click.option("--admin-password", envvar="ARCHIVE_ADMIN_PASSWORD", help="Else generated and printed once.")
@click.pass_context
def init(ctx: click.Context, admin_name: str, admin_password: str | None) -> None:
    """Create ARCHIVE_HOME, the database, the master key and the first admin (idempotent)."""
    archive = archive_of(ctx)
    archive.migrate()
    archive.keyring  # noqa: B018 - creates the key file with 0600 on first run
    signer_for(archive.settings)  # creates the audit checkpoint signing key (0600) and its public key file
    added = reference.seed_reference_data(archive.uow())
    message = f"archive ready at {archive.settings.home} ({added} reference rows added)"
    if users.count_users(archive.uow()) == 0:
        password = admin_password or secrets.token_urlsafe(12)
        users.create_user(archive.uow(), actor=OPERATOR, username=admin_name, password=password, role=SYSTEM_ADMIN,
                          clearance="public", display_name="Administrator")
        message += f"; admin user {admin_name!r}" + ("" if admin_password else f" with password {password}")
    click.echo(message)


@click.group()
def user() -> None:
    """Manage user accounts."""


class RegisteredRoles(click.Choice):
    """The roles of every registered feature, read when the command runs, not when it is imported."""

    def __init__(self) -> None:
        super().__init__(())

    @property  # type: ignore[override]
    def choices(self) -> tuple[str, ...]:
        return registry.roles()

    @choices.setter
    def choices(self, _value: object) -> None:
        pass


@user.command("add")
@click.argument("username")
@click.option("--role", type=RegisteredRoles(), required=True)
@click.option("--department", help="Department code (required for clerk, staff, approver).")
@click.option("--clearance", default="internal", show_default=True,
              help="Highest classification the user may read: public, internal, confidential, secret.")
@click.option("--name", "display_name", default="", help="Display name.")
@click.option("--email", default="", help="Where a self-service unlock link is sent (when SMTP is configured).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, envvar="ARCHIVE_NEW_PASSWORD")
@click.pass_context
def user_add(ctx: click.Context, username: str, role: str, department: str | None, clearance: str,
             display_name: str, email: str, password: str) -> None:
    """Create a user account."""
    user_id = users.create_user(archive_of(ctx).uow(), actor=OPERATOR, username=username, password=password,
                                role=role, department=department, clearance=clearance,
                                display_name=display_name, email=email)
    click.echo(f"user {username} created (id {user_id})")


@click.group()
def department() -> None:
    """Manage departments."""


@department.command("add")
@click.argument("code")
@click.argument("name")
@click.pass_context
def department_add(ctx: click.Context, code: str, name: str) -> None:
    """Create a department (idempotent)."""
    department_id = reference.ensure_department(archive_of(ctx).uow(), actor=OPERATOR, code=code, name=name)
    click.echo(f"department {code} (id {department_id})")


COMMANDS: list[click.Command] = [init, user, department]
