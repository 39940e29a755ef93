"""fixity runs

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fixity_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('documents_checked', sa.Integer(), nullable=False),
    sa.Column('objects_checked', sa.Integer(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fixity_run'))
    )
    with op.batch_alter_table('fixity_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fixity_run_started_at'), ['started_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('fixity_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fixity_run_started_at'))

    op.drop_table('fixity_run')
