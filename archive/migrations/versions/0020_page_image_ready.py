"""a PDF's page images are made by the workers: a page remembers whether its image is stored yet
(every existing page's is)

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('page', sa.Column('image_ready', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    op.drop_column('page', 'image_ready')
