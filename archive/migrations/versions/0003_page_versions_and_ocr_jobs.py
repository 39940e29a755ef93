"""page versions (rescans), word boxes, page image hashes, OCR job stamps

Revision ID: 0003
Revises: 0002

`page` keeps holding exactly the current pages (version, the image's SHA-256, the word-box object, when
an OCR job started, who replaced it and when); a replaced version moves to `page_version`.
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # `page` first: on SQLite the batch rebuilds the table, before anything references it anew.
    with op.batch_alter_table('page', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('image_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('ocr_started_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('words_object_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('replaced_by_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_page_ocr_status'), ['ocr_status'], unique=False)
        batch_op.create_index(batch_op.f('ix_page_rescan_needed'), ['rescan_needed'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_page_replaced_by_id_user_account'), 'user_account',
                                    ['replaced_by_id'], ['id'])

    op.create_table('page_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('object_key', sa.String(length=200), nullable=False),
    sa.Column('image_sha256', sa.String(length=64), nullable=True),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('text_layer', sa.Boolean(), nullable=False),
    sa.Column('ocr_status', sa.String(length=20), nullable=False),
    sa.Column('ocr_error', sa.Text(), nullable=True),
    sa.Column('ocr_text', sa.Text(), nullable=True),
    sa.Column('ocr_confidence', sa.Float(), nullable=True),
    sa.Column('text_object_key', sa.String(length=200), nullable=True),
    sa.Column('words_object_key', sa.String(length=200), nullable=True),
    sa.Column('rescan_needed', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('superseded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_page_version_document_id_document')),
    sa.ForeignKeyConstraint(['page_id'], ['page.id'], name=op.f('fk_page_version_page_id_page')),
    sa.ForeignKeyConstraint(['superseded_by_id'], ['user_account.id'],
                            name=op.f('fk_page_version_superseded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_page_version')),
    sa.UniqueConstraint('page_id', 'version', name='uq_page_version_page_id')
    )
    with op.batch_alter_table('page_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_page_version_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_page_version_page_id'), ['page_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('page_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_page_version_page_id'))
        batch_op.drop_index(batch_op.f('ix_page_version_document_id'))

    op.drop_table('page_version')

    with op.batch_alter_table('page', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_page_replaced_by_id_user_account'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_page_rescan_needed'))
        batch_op.drop_index(batch_op.f('ix_page_ocr_status'))
        batch_op.drop_column('replaced_by_id')
        batch_op.drop_column('replaced_at')
        batch_op.drop_column('words_object_key')
        batch_op.drop_column('ocr_started_at')
        batch_op.drop_column('image_sha256')
        batch_op.drop_column('version')
