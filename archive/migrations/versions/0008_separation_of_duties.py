"""三员分立: the administrator and compliance roles become the system administrator and the auditor;
each account remembers the first of the three administrator roles it held (user_account.duty_role)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

RENAMED = (("admin", "sysadmin"), ("compliance", "auditor"))


def _rename(pairs) -> None:  # noqa: ANN001
    for old, new in pairs:
        for table in ("user_account", "account_change_request"):
            op.execute(f"UPDATE {table} SET role = '{new}' WHERE role = '{old}'")


def upgrade() -> None:
    _rename(RENAMED)
    op.add_column('user_account', sa.Column('duty_role', sa.String(length=20), nullable=True))
    op.execute("UPDATE user_account SET duty_role = role WHERE role IN ('sysadmin', 'security_admin', 'auditor')")


def downgrade() -> None:
    op.execute("ALTER TABLE user_account DROP COLUMN duty_role")
    _rename((new, old) for old, new in RENAMED)
