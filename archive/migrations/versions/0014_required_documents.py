"""required documents: the per-business-process checklist in a table (was only in reference_data.json)

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

# The checklist as reference_data.json held it when this migration was written (a migration never reads
# files that may change later).
SEED = {
    "individual": ["application_form", "supply_contract", "id_copy"],
    "organisation": ["application_form", "supply_contract", "business_licence", "id_copy"],
}


def upgrade() -> None:
    table = op.create_table('required_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_kind', sa.String(length=32), nullable=False),
    sa.Column('document_type_code', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['document_type_code'], ['document_type.code'],
                            name=op.f('fk_required_document_document_type_code_document_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_required_document')),
    sa.UniqueConstraint('customer_kind', 'document_type_code',
                        name=op.f('uq_required_document_customer_kind')),
    )
    # Only types that exist: a fresh database is seeded with its types after migrating (archive init).
    present = {row[0] for row in op.get_bind().execute(sa.text("SELECT code FROM document_type"))}
    rows = [{"customer_kind": kind, "document_type_code": code}
            for kind, codes in SEED.items() for code in codes if code in present]
    if rows:
        op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_table('required_document')
