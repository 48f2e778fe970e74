"""Every table, imported in one place so the metadata (and Alembic) sees them all."""

from junction.accounts.models import EmailLink, UserSession
from junction.alerts.models import Alert, AlertChannel, AlertDelivery, AlertSettings
from junction.audit.models import AuditEntry
from junction.billing.models import BillingUsage, StripeEvent, TenantBilling
from junction.connections.models import Connection, ConnectionCheck
from junction.db.base import Base
from junction.events.models import Event, EventAttempt
from junction.intake.models import InboundEndpoint, IntakeRefusal
from junction.members.models import Invitation
from junction.plugins.models import PluginInstallation
from junction.tenancy.models import ApiKey, Membership, Tenant, User

__all__ = [
    "Alert",
    "AlertChannel",
    "AlertDelivery",
    "AlertSettings",
    "ApiKey",
    "AuditEntry",
    "Base",
    "BillingUsage",
    "Connection",
    "ConnectionCheck",
    "EmailLink",
    "Event",
    "EventAttempt",
    "InboundEndpoint",
    "IntakeRefusal",
    "Invitation",
    "Membership",
    "PluginInstallation",
    "StripeEvent",
    "Tenant",
    "TenantBilling",
    "User",
    "UserSession",
]
