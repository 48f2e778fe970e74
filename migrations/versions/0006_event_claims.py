"""event claims (the events a worker took together), pause causes, checkpoints

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 09:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_events_claim_id'), ['claim_id'], unique=False)
        batch_op.add_column(sa.Column('pause_cause', sa.Enum('connection', 'tenant_suspended', name='pausecause', native_enum=False, length=32, create_constraint=False), nullable=True))
        batch_op.add_column(sa.Column('checkpoint', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True))
    op.execute("UPDATE events SET pause_cause = 'connection' WHERE status = 'paused'")


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('checkpoint')
        batch_op.drop_column('pause_cause')
        batch_op.drop_index(batch_op.f('ix_events_claim_id'))
        batch_op.drop_column('claim_id')
