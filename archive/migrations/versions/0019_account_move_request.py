"""a department move of an account above staff/internal waits for a security administrator: the
request names the department (null: the request changes role and clearance only)

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('account_change_request', sa.Column('department', sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column('account_change_request', 'department')
