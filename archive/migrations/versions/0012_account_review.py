"""account review: review campaigns and their accounts; a covering index of the trail for the access report

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('inactive_days', sa.Integer(), nullable=False),
    sa.Column('changes_since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('started_by', sa.String(length=100), nullable=False),
    sa.Column('signed_off_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_off_by_id', sa.Integer(), nullable=True),
    sa.Column('signed_off_by', sa.String(length=100), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_review'))
    )
    op.create_index(op.f('ix_account_review_status'), 'account_review', ['status'])
    op.create_table('account_review_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('department', sa.String(length=32), nullable=False),
    sa.Column('clearance', sa.String(length=32), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('inactive', sa.Boolean(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['review_id'], ['account_review.id'],
                            name=op.f('fk_account_review_item_review_id_account_review')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                            name=op.f('fk_account_review_item_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_review_item')),
    sa.UniqueConstraint('review_id', 'user_id', name='uq_account_review_item_review_user')
    )
    op.create_index(op.f('ix_account_review_item_review_id'), 'account_review_item', ['review_id'])
    # The access report and the accounts' last use group a period of the trail by actor, type and outcome:
    # a covering index reads the period without touching the (wide) event rows.
    op.create_index('ix_audit_event_period_actor', 'audit_event', ['occurred_at', 'actor_id', 'event_type', 'outcome'])


def downgrade() -> None:
    op.drop_index('ix_audit_event_period_actor', table_name='audit_event')
    op.drop_index(op.f('ix_account_review_item_review_id'), table_name='account_review_item')
    op.drop_table('account_review_item')
    op.drop_index(op.f('ix_account_review_status'), table_name='account_review')
    op.drop_table('account_review')
