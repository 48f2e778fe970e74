"""connection health: the check schedule, the keep-alive clock, the check history

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 22:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tenant-owned tables this revision adds: row-level security as in 0010.
TENANT_TABLES = ('connection_checks',)
RULE = (
    "coalesce(current_setting('junction.tenant_id', true), '') = '' "
    "OR tenant_id = NULLIF(current_setting('junction.tenant_id', true), '')::uuid"
)


def upgrade() -> None:
    with op.batch_alter_table('connections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('next_check_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_connections_next_check_at'), ['next_check_at'], unique=False)
    # The keep-alive counts from the last time the secrets were stored.
    op.execute('UPDATE connections SET refreshed_at = updated_at')
    op.create_table(
        'connection_checks',
        sa.Column('connection_id', sa.Uuid(), nullable=False),
        sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.Enum('healthy', 'expiring', 'expired', 'needs_reauth', 'revoked', 'error', name='connectionstatus', native_enum=False, length=32, create_constraint=False), nullable=False),
        sa.Column('detail', sa.String(length=500), nullable=False),
        sa.Column('refreshed', sa.Boolean(), nullable=False),
        sa.Column('duration_ms', sa.Integer(), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('tenant_id', sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], name=op.f('fk_connection_checks_connection_id_connections'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_connection_checks_tenant_id_tenants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_connection_checks')),
    )
    op.create_index(op.f('ix_connection_checks_checked_at'), 'connection_checks', ['checked_at'], unique=False)
    op.create_index(op.f('ix_connection_checks_connection_id'), 'connection_checks', ['connection_id'], unique=False)
    op.create_index(op.f('ix_connection_checks_tenant_id'), 'connection_checks', ['tenant_id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        for table in TENANT_TABLES:
            op.execute(f'ALTER TABLE {table} ENABLE ROW LEVEL SECURITY')
            op.execute(f'ALTER TABLE {table} FORCE ROW LEVEL SECURITY')
            op.execute(
                f'CREATE POLICY tenant_isolation ON {table} USING ({RULE}) WITH CHECK ({RULE})'
            )


def downgrade() -> None:
    op.drop_index(op.f('ix_connection_checks_tenant_id'), table_name='connection_checks')
    op.drop_index(op.f('ix_connection_checks_connection_id'), table_name='connection_checks')
    op.drop_index(op.f('ix_connection_checks_checked_at'), table_name='connection_checks')
    op.drop_table('connection_checks')
    with op.batch_alter_table('connections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_connections_next_check_at'))
        batch_op.drop_column('next_check_at')
        batch_op.drop_column('refreshed_at')
