"""row-level security on tenant-owned tables (PostgreSQL)

A second wall behind the application's scoping: a transaction that set
`junction.tenant_id` sees and writes only that tenant's rows, whatever its SQL says.
FORCE makes the policies apply to the tables' owner too (the application's role);
superusers still bypass them, as PostgreSQL has it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 22:05:00.000000
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = (
    'api_keys',
    'audit_log',
    'connections',
    'event_attempts',
    'events',
    'inbound_endpoints',
    'intake_refusals',
    'invitations',
    'memberships',
    'plugin_installations',
)
# NULLIF: an empty setting must never reach the cast (PostgreSQL may evaluate both sides).
RULE = (
    "coalesce(current_setting('junction.tenant_id', true), '') = '' "
    "OR tenant_id = NULLIF(current_setting('junction.tenant_id', true), '')::uuid"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TENANT_TABLES:
        op.execute(f'ALTER TABLE {table} ENABLE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE {table} FORCE ROW LEVEL SECURITY')
        op.execute(
            f'CREATE POLICY tenant_isolation ON {table} USING ({RULE}) WITH CHECK ({RULE})'
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TENANT_TABLES:
        op.execute(f'DROP POLICY IF EXISTS tenant_isolation ON {table}')
        op.execute(f'ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE {table} DISABLE ROW LEVEL SECURITY')
