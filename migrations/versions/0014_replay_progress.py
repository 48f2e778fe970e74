"""events remember the replay that last ran them again

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('replay_id', sa.Uuid(), nullable=True))
        batch_op.create_index('ix_events_tenant_id_replay_id', ['tenant_id', 'replay_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_tenant_id_replay_id')
        batch_op.drop_column('replay_id')
