"""audit hash chain (seq, prev_hash, hash on audit_event), chain head, signed checkpoints, desk indexes,
anomaly alerts

Revision ID: 0005
Revises: 0004

Existing events are linked into the chain in id order (the append-only triggers are set aside for that
one UPDATE and restored exactly as they were). audit_checkpoint is append-only like audit_event.
"""

import sqlalchemy as sa
from alembic import op

from archive import audit_format as chainformat

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

DESK_INDEXES = {
    'ix_audit_event_actor_name_seq': ['actor_name', 'seq'],
    'ix_audit_event_event_type_seq': ['event_type', 'seq'],
    'ix_audit_event_target_seq': ['target_type', 'target_id', 'seq'],
    'ix_audit_event_outcome_seq': ['outcome', 'seq'],
    'ix_audit_event_remote_addr_seq': ['remote_addr', 'seq'],
}


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch: rebuilding audit_event on SQLite would drop its triggers.
    op.add_column('audit_event', sa.Column('seq', sa.BigInteger(), nullable=True))
    op.add_column('audit_event', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_event', sa.Column('hash', sa.String(length=64), nullable=True))
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    op.create_table('audit_checkpoint',
    sa.Column('number', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('from_seq', sa.BigInteger(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('merkle_root', sa.String(length=64), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('algorithm', sa.String(length=16), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('signature', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('number', name=op.f('pk_audit_checkpoint'))
    )
    op.create_table('audit_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=200), nullable=False),
    sa.Column('rule', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=100), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=100), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_alert')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_audit_alert_fingerprint'))
    )
    for column in ('rule', 'subject', 'raised_at', 'acknowledged_at'):
        op.create_index(op.f(f'ix_audit_alert_{column}'), 'audit_alert', [column], unique=False)
    op.create_table('audit_alert_cursor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_alert_cursor'))
    )
    op.create_index(op.f('ix_audit_checkpoint_seq'), 'audit_checkpoint', ['seq'], unique=False)
    op.create_index(op.f('ix_audit_checkpoint_signed_at'), 'audit_checkpoint', ['signed_at'], unique=False)
    head_seq, head_hash = _link_existing_events()
    op.execute(sa.text("INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, :seq, :hash)")
               .bindparams(seq=head_seq, hash=head_hash))
    op.create_index(op.f('ix_audit_event_seq'), 'audit_event', ['seq'], unique=True)
    for name, columns in DESK_INDEXES.items():
        op.create_index(name, 'audit_event', columns, unique=False)
    _make_checkpoints_append_only()
    _advance_head_on_insert()


def downgrade() -> None:
    _drop_head_advance()
    _drop_checkpoint_guards()
    for name in DESK_INDEXES:
        op.drop_index(name, table_name='audit_event')
    op.drop_index(op.f('ix_audit_event_seq'), table_name='audit_event')
    op.drop_index(op.f('ix_audit_checkpoint_signed_at'), table_name='audit_checkpoint')
    op.drop_index(op.f('ix_audit_checkpoint_seq'), table_name='audit_checkpoint')
    op.drop_table('audit_checkpoint')
    op.drop_table('audit_alert_cursor')
    for column in ('rule', 'subject', 'raised_at', 'acknowledged_at'):
        op.drop_index(op.f(f'ix_audit_alert_{column}'), table_name='audit_alert')
    op.drop_table('audit_alert')
    op.drop_table('audit_chain_head')
    for column in ('hash', 'prev_hash', 'seq'):  # ALTER TABLE DROP COLUMN: keeps the triggers
        op.drop_column('audit_event', column)


def _link_existing_events() -> tuple[int, str]:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, occurred_at, actor_id, actor_name, event_type, target_type, target_id, outcome, "
        "remote_addr, detail FROM audit_event ORDER BY id")).mappings().all()
    if not rows:
        return 0, chainformat.GENESIS
    table = sa.table('audit_event', sa.column('id'), sa.column('occurred_at', sa.DateTime(timezone=True)),
                     sa.column('detail', sa.JSON()), sa.column('seq'), sa.column('prev_hash'), sa.column('hash'))
    links, prev = [], chainformat.GENESIS
    for seq, row in enumerate(rows, start=1):
        event = dict(row)
        event['detail'] = _json(event['detail'])
        event['occurred_at'] = _moment(bind, event['occurred_at'])
        digest = chainformat.entry_hash('audit_event', seq, prev, chainformat.audit_event_values(event))
        links.append({'row_id': row['id'], 'seq': seq, 'prev_hash': prev, 'hash': digest})
        prev = digest
    with _append_only_set_aside():
        bind.execute(table.update().where(table.c.id == sa.bindparam('row_id')).values(
            seq=sa.bindparam('seq'), prev_hash=sa.bindparam('prev_hash'), hash=sa.bindparam('hash')), links)
    return len(rows), prev


def _json(value):
    import json

    return json.loads(value) if isinstance(value, str) else (value or {})


def _moment(bind, value):
    from datetime import datetime

    if isinstance(value, str):  # SQLite through text(): the stored string
        return datetime.fromisoformat(value)
    return value


class _append_only_set_aside:
    """Disable audit_event's triggers for the backfill and restore them exactly (SQLite keeps the SQL)."""

    def __enter__(self):
        bind = op.get_bind()
        if bind.dialect.name == 'sqlite':
            self.triggers = bind.execute(sa.text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'")).all()
            for name, _ in self.triggers:
                op.execute(f'DROP TRIGGER "{name}"')
        else:
            op.execute('ALTER TABLE audit_event DISABLE TRIGGER USER')
        return self

    def __exit__(self, *exc):
        bind = op.get_bind()
        if bind.dialect.name == 'sqlite':
            for _, sql in self.triggers:
                op.execute(sql)
        else:
            op.execute('ALTER TABLE audit_event ENABLE TRIGGER USER')
        return False


def _make_checkpoints_append_only() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for action in ('UPDATE', 'DELETE'):
            op.execute(
                f"CREATE TRIGGER audit_checkpoint_no_{action.lower()} BEFORE {action} ON audit_checkpoint "
                "BEGIN SELECT RAISE(ABORT, 'audit_checkpoint is append-only'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION audit_checkpoint_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit_checkpoint is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_checkpoint "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoint_append_only()"
        )


def _drop_checkpoint_guards() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("DROP TRIGGER IF EXISTS audit_checkpoint_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_checkpoint_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_checkpoint_append_only ON audit_checkpoint")
        op.execute("DROP FUNCTION IF EXISTS audit_checkpoint_append_only()")


def _advance_head_on_insert() -> None:
    """The event at the reserved head seq sets the head's hash as it is inserted: no extra round trip."""
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(
            "CREATE TRIGGER audit_event_chain_head AFTER INSERT ON audit_event WHEN NEW.seq IS NOT NULL "
            "BEGIN UPDATE audit_chain_head SET hash = NEW.hash WHERE id = 1 AND seq = NEW.seq; END"
        )
    else:
        op.execute(
            "CREATE FUNCTION audit_event_chain_head() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN UPDATE audit_chain_head SET hash = NEW.hash WHERE id = 1 AND seq = NEW.seq; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_event_chain_head AFTER INSERT ON audit_event FOR EACH ROW "
            "WHEN (NEW.seq IS NOT NULL) EXECUTE FUNCTION audit_event_chain_head()"
        )


def _drop_head_advance() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("DROP TRIGGER IF EXISTS audit_event_chain_head")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_chain_head ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_chain_head()")
