"""security controls: server-side sessions, throttles, approved account changes, minimum classification

Revision ID: 0004
Revises: 0003

- `web_session`: server-side web sessions, so logout, password change and deactivation end them at once.
- `security_counter`: login throttles (per account name and per address) and per-user rate limits.
- `account_change_request`: a role or clearance above staff/internal waits for a security administrator.
- `user_account.must_change_password`: a one-time password set by an administrator must be replaced;
  `cli_token_hash`: the SHA-256 of the user's personal command-line token; `totp_sealed`: the sealed
  secret of an optional TOTP second factor.
- `document_type.minimum_classification`: a type (e.g. an ID copy) cannot be captured below it.
- SQLite: `INSERT OR REPLACE` over an existing audit row is refused (the REPLACE deletes without firing
  the DELETE trigger).
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('user_account', sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(),
                                            nullable=False))
    op.add_column('user_account', sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('user_account', sa.Column('cli_token_hash', sa.String(length=64), nullable=True))
    op.add_column('user_account', sa.Column('totp_sealed', sa.String(length=200), nullable=True))
    # Plain ADD/DROP COLUMN (no foreign key): on SQLite a batch rebuild of a referenced table fails.
    op.add_column('document_type', sa.Column('minimum_classification', sa.String(length=32), nullable=True))

    op.create_table('web_session',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_session'))
    )
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_session_user_id'), ['user_id'], unique=False)

    op.create_table('security_counter',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('window_started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_security_counter'))
    )

    op.create_table('account_change_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('clearance', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_by', sa.String(length=100), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                            name=op.f('fk_account_change_request_user_id_user_account')),
    sa.ForeignKeyConstraint(['clearance'], ['classification_level.code'],
                            name=op.f('fk_account_change_request_clearance_classification_level')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_change_request'))
    )
    with op.batch_alter_table('account_change_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_change_request_status'), ['status'], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER audit_event_no_replace BEFORE INSERT ON audit_event "
            "WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM audit_event WHERE id = NEW.id) "
            "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_replace")
    with op.batch_alter_table('account_change_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_change_request_status'))
    op.drop_table('account_change_request')
    op.drop_table('security_counter')
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_session_user_id'))
    op.drop_table('web_session')
    op.drop_column('document_type', 'minimum_classification')
    op.drop_column('user_account', 'totp_sealed')
    op.drop_column('user_account', 'cli_token_hash')
    op.drop_column('user_account', 'password_changed_at')
    op.drop_column('user_account', 'must_change_password')
