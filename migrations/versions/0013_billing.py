"""billing: subscriptions, usage, Stripe events, events counted

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 22:28:59.448755
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tenant-owned tables this revision adds: row-level security as in 0010. `stripe_events`
# is the platform's own record of Stripe's deliveries, read before any tenant is known.
TENANT_TABLES = ('tenant_billing', 'billing_usage')
RULE = (
    "coalesce(current_setting('junction.tenant_id', true), '') = '' "
    "OR tenant_id = NULLIF(current_setting('junction.tenant_id', true), '')::uuid"
)


def upgrade() -> None:
    op.create_table('stripe_events',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('customer', sa.String(length=255), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_events'))
    )
    with op.batch_alter_table('stripe_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stripe_events_customer'), ['customer'], unique=False)
        batch_op.create_index(batch_op.f('ix_stripe_events_received_at'), ['received_at'], unique=False)

    op.create_table('billing_usage',
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('period_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.Column('quota', sa.Integer(), nullable=True),
    sa.Column('warned_80_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('warned_100_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_billing_usage_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_usage')),
    sa.UniqueConstraint('tenant_id', 'period_start', name=op.f('uq_billing_usage_tenant_id_period_start'))
    )
    with op.batch_alter_table('billing_usage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_usage_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('tenant_billing',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('stripe_customer_id', sa.String(length=255), nullable=True),
    sa.Column('stripe_subscription_id', sa.String(length=255), nullable=True),
    sa.Column('subscription_status', sa.String(length=32), nullable=True),
    sa.Column('stripe_price', sa.String(length=255), nullable=True),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('period_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_at_period_end', sa.Boolean(), nullable=False),
    sa.Column('past_due_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('granted_plan', sa.String(length=40), nullable=True),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenant_billing_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_tenant_billing')),
    sa.UniqueConstraint('stripe_customer_id', name=op.f('uq_tenant_billing_stripe_customer_id'))
    )
    with op.batch_alter_table('tenant_billing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tenant_billing_stripe_subscription_id'), ['stripe_subscription_id'], unique=False)

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('billed_at', sa.DateTime(timezone=True), nullable=True))

    if op.get_bind().dialect.name == 'postgresql':
        for table in TENANT_TABLES:
            op.execute(f'ALTER TABLE {table} ENABLE ROW LEVEL SECURITY')
            op.execute(f'ALTER TABLE {table} FORCE ROW LEVEL SECURITY')
            op.execute(
                f'CREATE POLICY tenant_isolation ON {table} USING ({RULE}) WITH CHECK ({RULE})'
            )


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('billed_at')

    with op.batch_alter_table('tenant_billing', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tenant_billing_stripe_subscription_id'))

    op.drop_table('tenant_billing')
    with op.batch_alter_table('billing_usage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_usage_tenant_id'))

    op.drop_table('billing_usage')
    with op.batch_alter_table('stripe_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stripe_events_received_at'))
        batch_op.drop_index(batch_op.f('ix_stripe_events_customer'))

    op.drop_table('stripe_events')
