"""self-service unlock by e-mail: users' e-mail addresses and one-time unlock tokens

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('user_account', sa.Column('email', sa.String(length=200), nullable=True))  # no table rebuild
    op.create_table('unlock_token',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_unlock_token'))
    )
    op.create_index(op.f('ix_unlock_token_user_id'), 'unlock_token', ['user_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_unlock_token_user_id'), table_name='unlock_token')
    op.drop_table('unlock_token')
    op.execute("ALTER TABLE user_account DROP COLUMN email")
