"""filing and retention: filing and late-capture fields on documents; retention's schedules, trigger
events, disposition dates, legal holds, appraisal and the destruction register

Revision ID: 0006
Revises: 0005

The tables belong to the retention package (retention/models.py); they live in the one schema so that
destruction checks holds and writes its register entry inside its own transaction. The destruction
register is permanent: triggers refuse UPDATE, DELETE (and TRUNCATE on PostgreSQL), and on SQLite an
INSERT that names an existing id (INSERT OR REPLACE would otherwise overwrite a row without a trigger).
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, no table rebuild: on SQLite rebuilding `document` would have to drop a table that
    # pages, versions and the outbox reference. filed_by_id is therefore a plain column (no foreign key).
    op.add_column('document', sa.Column('late_capture_reason', sa.Text(), nullable=True))
    op.add_column('document', sa.Column('filed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('document', sa.Column('filed_by_id', sa.Integer(), nullable=True))
    op.add_column('document', sa.Column('contract_end_date', sa.Date(), nullable=True))
    op.create_index(op.f('ix_document_filed_at'), 'document', ['filed_at'], unique=False)
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
    op.create_table('appraisal_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'],
                            name=op.f('fk_appraisal_batch_department_id_department')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'],
                            name=op.f('fk_appraisal_batch_decided_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appraisal_batch'))
    )
    op.create_index(op.f('ix_appraisal_batch_department_id'), 'appraisal_batch', ['department_id'])
    op.create_index(op.f('ix_appraisal_batch_status'), 'appraisal_batch', ['status'])
    op.create_table('appraisal_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('extend_years', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['appraisal_batch.id'], name=op.f('fk_appraisal_item_batch_id_appraisal_batch')),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_appraisal_item_document_id_document')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appraisal_item')),
    sa.UniqueConstraint('batch_id', 'document_id', name='uq_appraisal_item_batch_document')
    )
    op.create_index(op.f('ix_appraisal_item_batch_id'), 'appraisal_item', ['batch_id'])
    op.create_index(op.f('ix_appraisal_item_document_id'), 'appraisal_item', ['document_id'])
    op.create_table('appraisal_vote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('appraiser_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('extend_years', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('voted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['appraisal_item.id'], name=op.f('fk_appraisal_vote_item_id_appraisal_item')),
    sa.ForeignKeyConstraint(['appraiser_id'], ['user_account.id'],
                            name=op.f('fk_appraisal_vote_appraiser_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appraisal_vote')),
    sa.UniqueConstraint('item_id', 'appraiser_id', name='uq_appraisal_vote_item_appraiser')
    )
    op.create_index(op.f('ix_appraisal_vote_item_id'), 'appraisal_vote', ['item_id'])
    op.create_table('destruction_register',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('archive_code', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('document_type', sa.String(length=64), nullable=False),
    sa.Column('department', sa.String(length=32), nullable=False),
    sa.Column('document_date', sa.Date(), nullable=True),
    sa.Column('captured_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('schedule', sa.String(length=200), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('appraisers', sa.String(length=300), nullable=False),
    sa.Column('approved_by', sa.String(length=64), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('executed_by', sa.String(length=64), nullable=False),
    sa.Column('destroyed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'],
                            name=op.f('fk_destruction_register_document_id_document')),
    sa.ForeignKeyConstraint(['batch_id'], ['appraisal_batch.id'],
                            name=op.f('fk_destruction_register_batch_id_appraisal_batch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_destruction_register')),
    sa.UniqueConstraint('document_id', name=op.f('uq_destruction_register_document_id'))
    )
    op.create_index(op.f('ix_destruction_register_batch_id'), 'destruction_register', ['batch_id'])
    op.create_table('transfer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('from_department_id', sa.Integer(), nullable=False),
    sa.Column('to_department_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_by_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['from_department_id'], ['department.id'],
                            name=op.f('fk_transfer_from_department_id_department')),
    sa.ForeignKeyConstraint(['to_department_id'], ['department.id'], name=op.f('fk_transfer_to_department_id_department')),
    sa.ForeignKeyConstraint(['sent_by_id'], ['user_account.id'], name=op.f('fk_transfer_sent_by_id_user_account')),
    sa.ForeignKeyConstraint(['received_by_id'], ['user_account.id'],
                            name=op.f('fk_transfer_received_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer'))
    )
    op.create_table('transfer_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transfer_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('archive_code', sa.String(length=100), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['transfer_id'], ['transfer.id'], name=op.f('fk_transfer_item_transfer_id_transfer')),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_transfer_item_document_id_document')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_item'))
    )
    op.create_index(op.f('ix_transfer_item_transfer_id'), 'transfer_item', ['transfer_id'])
    _protect_register()


def _protect_register() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER destruction_register_no_{action.lower()} BEFORE {action} ON "
                       "destruction_register BEGIN SELECT RAISE(ABORT, 'destruction_register is permanent'); END")
        op.execute("CREATE TRIGGER destruction_register_no_replace BEFORE INSERT ON destruction_register "
                   "WHEN EXISTS (SELECT 1 FROM destruction_register WHERE id = NEW.id) "
                   "BEGIN SELECT RAISE(ABORT, 'destruction_register is permanent'); END")
    else:
        op.execute("CREATE FUNCTION destruction_register_permanent() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN RAISE EXCEPTION 'destruction_register is permanent'; END $$")
        op.execute("CREATE TRIGGER destruction_register_permanent BEFORE UPDATE OR DELETE OR TRUNCATE ON "
                   "destruction_register FOR EACH STATEMENT EXECUTE FUNCTION destruction_register_permanent()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("update", "delete", "replace"):
            op.execute(f"DROP TRIGGER IF EXISTS destruction_register_no_{name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS destruction_register_permanent ON destruction_register")
        op.execute("DROP FUNCTION IF EXISTS destruction_register_permanent()")
    op.drop_table('transfer_item')
    op.drop_table('transfer')
    op.drop_table('destruction_register')
    op.drop_table('appraisal_vote')
    op.drop_table('appraisal_item')
    op.drop_table('appraisal_batch')
    op.drop_index('ix_legal_hold_target', table_name='legal_hold')
    op.drop_table('legal_hold')
    op.drop_index(op.f('ix_retention_disposition_due_on'), table_name='retention_disposition')
    op.drop_table('retention_disposition')
    op.drop_index('ix_retention_event_document_name', table_name='retention_event')
    op.drop_index('ix_retention_event_customer_name', table_name='retention_event')
    op.drop_table('retention_event')
    op.drop_table('retention_schedule')
    op.drop_index(op.f('ix_document_filed_at'), table_name='document')
    for column in ('contract_end_date', 'filed_by_id', 'filed_at', 'late_capture_reason'):
        op.execute(f"ALTER TABLE document DROP COLUMN {column}")  # SQLite ≥ 3.35 and PostgreSQL alike
