"""superseded customers (seed 004), documents' work order and business step

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD/DROP COLUMN (no batch copy on SQLite: other tables' foreign keys point at these two).
    op.add_column('customer', sa.Column('superseded_by_id', sa.Integer(), nullable=True))
    if op.get_context().dialect.name != 'sqlite':  # SQLite cannot ALTER in a constraint; the model keeps it
        op.create_foreign_key(op.f('fk_customer_superseded_by_id_customer'), 'customer', 'customer',
                              ['superseded_by_id'], ['id'])
    op.add_column('customer', sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f('ix_customer_superseded_by_id'), 'customer', ['superseded_by_id'], unique=False)
    op.add_column('document', sa.Column('work_order', sa.String(length=64), nullable=True))
    op.add_column('document', sa.Column('business_step', sa.String(length=100), nullable=True))
    op.create_index(op.f('ix_document_work_order'), 'document', ['work_order'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_document_work_order'), table_name='document')
    op.drop_index(op.f('ix_customer_superseded_by_id'), table_name='customer')
    for table, column in (('document', 'business_step'), ('document', 'work_order'),
                          ('customer', 'superseded_at'), ('customer', 'superseded_by_id')):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")  # SQLite ≥ 3.35 and PostgreSQL alike
