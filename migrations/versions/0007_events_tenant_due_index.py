"""a tenant's due events, oldest first, indexed on their own

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 21:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DUE = sa.text("status IN ('received', 'retrying')")


def upgrade() -> None:
    op.create_index(
        'ix_events_tenant_due',
        'events',
        ['tenant_id', 'next_attempt_at'],
        unique=False,
        postgresql_where=DUE,
        sqlite_where=DUE,
    )


def downgrade() -> None:
    op.drop_index('ix_events_tenant_due', table_name='events')
