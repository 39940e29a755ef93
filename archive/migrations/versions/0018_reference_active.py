"""reference data can be deactivated: an `active` flag on departments, document types, classification
levels and retention periods (records keep referring to them; new use is refused)

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

TABLES = ('department', 'document_type', 'classification_level', 'retention_period')


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    # Not batch mode: on SQLite that recreates the tables, which the rows referring to them forbid.
    for table in TABLES:
        op.drop_column(table, 'active')
