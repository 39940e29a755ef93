"""borrowing: requests, approval chains, grants, loans of originals, delegations; the inbox;
classification changes; a dossier's classification; a document's physical location

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# The default chains (archive/borrowing/chains.py keeps the same list for `archive init`).
HEAD = {"capacity": "department_head", "rule": "any"}
MANAGER = {"capacity": "archive_manager", "rule": "any"}
LEADER = {"capacity": "leader", "rule": "any"}
DEFAULT_CHAINS = {"public": [HEAD], "internal": [HEAD], "confidential": [HEAD, MANAGER],
                  "secret": [HEAD, MANAGER, LEADER]}


def _user_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ['user_account.id'], name=op.f(f'fk_{table}_{column}_user_account'))


def upgrade() -> None:
    op.add_column('dossier', sa.Column('classification', sa.String(length=32), nullable=False,
                                       server_default='public'))
    op.add_column('document', sa.Column('box', sa.String(length=50), nullable=True))
    op.add_column('document', sa.Column('shelf', sa.String(length=50), nullable=True))
    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=50), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    _user_fk('notification', 'user_id'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    )
    op.create_index(op.f('ix_notification_user_id'), 'notification', ['user_id'])
    op.create_table('classification_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_type', sa.String(length=20), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('before', sa.String(length=32), nullable=False),
    sa.Column('after', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    _user_fk('classification_change', 'requested_by_id'),
    _user_fk('classification_change', 'decided_by_id'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_classification_change')),
    )
    op.create_index(op.f('ix_classification_change_target_id'), 'classification_change', ['target_id'])
    chain = op.create_table('approval_chain',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('classification', sa.String(length=32), nullable=False),
    sa.Column('in_department', sa.Boolean(), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['classification'], ['classification_level.code'],
                            name=op.f('fk_approval_chain_classification_classification_level')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_chain')),
    sa.UniqueConstraint('classification', 'in_department', name='uq_approval_chain_level'),
    )
    op.create_table('borrow_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('asked', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('classification', sa.String(length=32), nullable=False),
    sa.Column('in_department', sa.Boolean(), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('step_started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    _user_fk('borrow_request', 'requester_id'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_borrow_request')),
    sa.UniqueConstraint('number', name=op.f('uq_borrow_request_number')),
    )
    op.create_index(op.f('ix_borrow_request_requester_id'), 'borrow_request', ['requester_id'])
    op.create_index(op.f('ix_borrow_request_status'), 'borrow_request', ['status'])
    op.create_table('borrow_item',
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['borrow_request.id'], name=op.f('fk_borrow_item_request_id_borrow_request')),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_borrow_item_document_id_document')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_borrow_item_department_id_department')),
    sa.PrimaryKeyConstraint('request_id', 'document_id', name=op.f('pk_borrow_item')),
    )
    op.create_index(op.f('ix_borrow_item_document_id'), 'borrow_item', ['document_id'])
    op.create_table('borrow_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('approver_id', sa.Integer(), nullable=False),
    sa.Column('on_behalf_of_id', sa.Integer(), nullable=True),
    sa.Column('approve', sa.Boolean(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['borrow_request.id'],
                            name=op.f('fk_borrow_decision_request_id_borrow_request')),
    _user_fk('borrow_decision', 'approver_id'),
    _user_fk('borrow_decision', 'on_behalf_of_id'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_borrow_decision')),
    )
    op.create_index(op.f('ix_borrow_decision_request_id'), 'borrow_decision', ['request_id'])
    op.create_table('borrow_grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=20), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['borrow_request.id'],
                            name=op.f('fk_borrow_grant_request_id_borrow_request')),
    _user_fk('borrow_grant', 'user_id'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_borrow_grant')),
    sa.UniqueConstraint('request_id', name=op.f('uq_borrow_grant_request_id')),
    )
    op.create_index(op.f('ix_borrow_grant_user_id'), 'borrow_grant', ['user_id'])
    op.create_index(op.f('ix_borrow_grant_expires_at'), 'borrow_grant', ['expires_at'])
    op.create_index(op.f('ix_borrow_grant_ended_at'), 'borrow_grant', ['ended_at'])
    op.create_table('borrow_delegation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('approver_id', sa.Integer(), nullable=False),
    sa.Column('delegate_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    _user_fk('borrow_delegation', 'approver_id'),
    _user_fk('borrow_delegation', 'delegate_id'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_borrow_delegation')),
    )
    op.create_index(op.f('ix_borrow_delegation_approver_id'), 'borrow_delegation', ['approver_id'])
    op.create_index(op.f('ix_borrow_delegation_delegate_id'), 'borrow_delegation', ['delegate_id'])
    op.create_table('physical_loan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('box', sa.String(length=50), nullable=False),
    sa.Column('shelf', sa.String(length=50), nullable=False),
    sa.Column('lent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lent_by_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('returned_by_id', sa.Integer(), nullable=True),
    sa.Column('reminded_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['borrow_request.id'],
                            name=op.f('fk_physical_loan_request_id_borrow_request')),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_physical_loan_document_id_document')),
    _user_fk('physical_loan', 'lent_by_id'),
    _user_fk('physical_loan', 'returned_by_id'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_physical_loan')),
    )
    op.create_index(op.f('ix_physical_loan_request_id'), 'physical_loan', ['request_id'])
    op.create_index(op.f('ix_physical_loan_document_id'), 'physical_loan', ['document_id'])
    op.create_index(op.f('ix_physical_loan_due_on'), 'physical_loan', ['due_on'])
    if op.get_bind().execute(sa.text("SELECT count(*) FROM classification_level")).scalar():
        op.bulk_insert(chain, [{"classification": level, "in_department": inside, "steps": steps}
                               for level, steps in DEFAULT_CHAINS.items() for inside in (False, True)])


def downgrade() -> None:
    for table in ('physical_loan', 'borrow_delegation', 'borrow_grant', 'borrow_decision', 'borrow_item',
                  'borrow_request', 'approval_chain', 'classification_change', 'notification'):
        op.drop_table(table)
    op.execute("ALTER TABLE document DROP COLUMN shelf")
    op.execute("ALTER TABLE document DROP COLUMN box")
    op.execute("ALTER TABLE dossier DROP COLUMN classification")
