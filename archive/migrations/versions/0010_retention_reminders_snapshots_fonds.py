"""retention: reminders for waiting appraisal batches, the destruction register kept as sealed PDF
snapshots, transfers to another fonds

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('appraisal_batch') as batch:
        batch.add_column(sa.Column('waiting_since', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('reminded_on', sa.Date(), nullable=True))
    op.execute("UPDATE appraisal_batch SET waiting_since = COALESCE(decided_at, created_at)")
    op.create_table('register_snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('object_key', sa.String(length=200), nullable=False),
    sa.Column('cipher', sa.String(length=20), nullable=False),
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('last_entry_id', sa.Integer(), nullable=True),
    sa.Column('period_from', sa.Date(), nullable=True),
    sa.Column('period_to', sa.Date(), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['appraisal_batch.id'],
                            name=op.f('fk_register_snapshot_batch_id_appraisal_batch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_register_snapshot')),
    )
    with op.batch_alter_table('transfer') as batch:
        batch.alter_column('to_department_id', existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column('to_fonds', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('to_archive', sa.String(length=200), nullable=False, server_default=''))
        batch.add_column(sa.Column('receiver_reference', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('received_signed_by', sa.String(length=100), nullable=True))


def downgrade() -> None:
    if op.get_bind().execute(sa.text("SELECT count(*) FROM transfer WHERE to_department_id IS NULL")).scalar():
        raise RuntimeError("transfers to another fonds exist: revision 0009 cannot hold them")
    with op.batch_alter_table('transfer') as batch:
        for column in ('received_signed_by', 'receiver_reference', 'to_archive', 'to_fonds'):
            batch.drop_column(column)
        batch.alter_column('to_department_id', existing_type=sa.Integer(), nullable=False)
    op.drop_table('register_snapshot')
    op.execute("ALTER TABLE appraisal_batch DROP COLUMN reminded_on")  # in place: tables refer to it
    op.execute("ALTER TABLE appraisal_batch DROP COLUMN waiting_since")
