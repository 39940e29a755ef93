"""retention: schedules per document type, trigger events, disposition dates, legal holds

Revision ID: 0006
Revises: 0003

The tables belong to the retention package (retention/models.py); they live in the one schema so that
destruction can check holds inside its own transaction.
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('retention_schedule',
    sa.Column('document_type', sa.String(length=64), nullable=False),
    sa.Column('years', sa.Integer(), nullable=True),
    sa.Column('months', sa.Integer(), nullable=True),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('event_name', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_type'], ['document_type.code'],
                            name=op.f('fk_retention_schedule_document_type_document_type')),
    sa.PrimaryKeyConstraint('document_type', name=op.f('pk_retention_schedule'))
    )
    op.create_table('retention_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_retention_event_customer_id_customer')),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_retention_event_document_id_document')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'],
                            name=op.f('fk_retention_event_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_event'))
    )
    op.create_index('ix_retention_event_customer_name', 'retention_event', ['customer_id', 'name'])
    op.create_index('ix_retention_event_document_name', 'retention_event', ['document_id', 'name'])
    op.create_table('retention_disposition',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('trigger_date', sa.Date(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'],
                            name=op.f('fk_retention_disposition_document_id_document')),
    sa.PrimaryKeyConstraint('document_id', name=op.f('pk_retention_disposition'))
    )
    op.create_index(op.f('ix_retention_disposition_due_on'), 'retention_disposition', ['due_on'])
    op.create_table('legal_hold',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_type', sa.String(length=16), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('hold_type', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('placed_by_id', sa.Integer(), nullable=True),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('released_by_id', sa.Integer(), nullable=True),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('release_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['placed_by_id'], ['user_account.id'], name=op.f('fk_legal_hold_placed_by_id_user_account')),
    sa.ForeignKeyConstraint(['released_by_id'], ['user_account.id'],
                            name=op.f('fk_legal_hold_released_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_hold'))
    )
    op.create_index('ix_legal_hold_target', 'legal_hold', ['target_type', 'target_id'])


def downgrade() -> None:
    op.drop_index('ix_legal_hold_target', table_name='legal_hold')
    op.drop_table('legal_hold')
    op.drop_index(op.f('ix_retention_disposition_due_on'), table_name='retention_disposition')
    op.drop_table('retention_disposition')
    op.drop_index('ix_retention_event_document_name', table_name='retention_event')
    op.drop_index('ix_retention_event_customer_name', table_name='retention_event')
    op.drop_table('retention_event')
    op.drop_table('retention_schedule')
