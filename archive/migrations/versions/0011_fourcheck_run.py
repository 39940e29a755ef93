"""fourcheck_run: the reports of the four-property check 四性检测 (DA/T 70)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fourcheck_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('scope', sa.JSON(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('documents_checked', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fourcheck_run'))
    )
    op.create_index(op.f('ix_fourcheck_run_trigger'), 'fourcheck_run', ['trigger'], unique=False)
    op.create_index(op.f('ix_fourcheck_run_started_at'), 'fourcheck_run', ['started_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_fourcheck_run_started_at'), table_name='fourcheck_run')
    op.drop_index(op.f('ix_fourcheck_run_trigger'), table_name='fourcheck_run')
    op.drop_table('fourcheck_run')
