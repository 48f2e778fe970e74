"""factory-boy factories for the models.

Factories add objects to the sync side of the test's async session (bound by the
`session` fixture); the test then awaits `session.flush()` or a commit.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import factory
from factory.alchemy import SQLAlchemyModelFactory

from junction.events.models import Event, EventStatus
from junction.intake.models import InboundEndpoint
from junction.intake.tokens import hash_endpoint_token, new_endpoint_token
from junction.plugins.models import PluginInstallation
from junction.secretbox import SecretBox
from junction.tenancy.api_keys import hash_api_key
from junction.tenancy.models import ApiKey, Membership, Role, Tenant, User

TEST_SECRET_KEY = "test-secret-key-for-junction-tests-only-0123456789"
secretbox = SecretBox([TEST_SECRET_KEY])


class _Base(SQLAlchemyModelFactory):  # type: ignore[misc]
    class Meta:
        abstract = True
        sqlalchemy_session = None
        sqlalchemy_session_persistence = None

    # Ids are set here, not at INSERT, so related factories can refer to them at once.
    id = factory.LazyFunction(uuid.uuid4)


class TenantFactory(_Base):
    class Meta:
        model = Tenant

    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.Sequence(lambda n: f"Tenant {n}")


class UserFactory(_Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")


class MembershipFactory(_Base):
    class Meta:
        model = Membership

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory)
    tenant_id = factory.LazyAttribute(lambda o: o.tenant.id)
    user_id = factory.LazyAttribute(lambda o: o.user.id)
    role = Role.owner


class ApiKeyFactory(_Base):
    """`ApiKeyFactory(tenant=t, key="jk_...")`; the key defaults to a unique one."""

    class Meta:
        model = ApiKey
        exclude = ("key",)

    tenant = factory.SubFactory(TenantFactory)
    key = factory.Sequence(
        lambda n: f"jk_test{n:04d}_{hashlib.sha256(str(n).encode()).hexdigest()}"
    )
    tenant_id = factory.LazyAttribute(lambda o: o.tenant.id)
    name = "test key"
    prefix = factory.Sequence(lambda n: f"test{n:04d}")
    key_hash = factory.LazyAttribute(lambda o: hash_api_key(o.key))
    role = Role.viewer


class PluginInstallationFactory(_Base):
    class Meta:
        model = PluginInstallation

    tenant = factory.SubFactory(TenantFactory)
    tenant_id = factory.LazyAttribute(lambda o: o.tenant.id)
    plugin = "echo"
    enabled = True
    config: Any = factory.LazyFunction(dict)


class InboundEndpointFactory(_Base):
    """`InboundEndpointFactory(installation=i, token="...")`."""

    class Meta:
        model = InboundEndpoint
        exclude = ("token", "signing_secret")

    installation = factory.SubFactory(PluginInstallationFactory)
    token = factory.LazyFunction(new_endpoint_token)
    signing_secret = None
    tenant_id = factory.LazyAttribute(lambda o: o.installation.tenant_id)
    installation_id = factory.LazyAttribute(lambda o: o.installation.id)
    name = factory.Sequence(lambda n: f"endpoint {n}")
    source_format = "echo"
    token_hash = factory.LazyAttribute(lambda o: hash_endpoint_token(o.token))
    token_encrypted = factory.LazyAttribute(lambda o: secretbox.encrypt(o.token))
    signing_secret_encrypted = factory.LazyAttribute(
        lambda o: secretbox.encrypt(o.signing_secret) if o.signing_secret else None
    )


class EventFactory(_Base):
    class Meta:
        model = Event

    endpoint = factory.SubFactory(InboundEndpointFactory)
    tenant_id = factory.LazyAttribute(lambda o: o.endpoint.tenant_id)
    endpoint_id = factory.LazyAttribute(lambda o: o.endpoint.id)
    idempotency_key = factory.Sequence(lambda n: f"src:order-{n}")
    content_type = "application/json"
    payload = factory.Sequence(lambda n: {"order_id": str(n)})
    headers: Any = factory.LazyFunction(dict)
    status = EventStatus.received
    attempts = 0


ALL_FACTORIES: list[type[SQLAlchemyModelFactory]] = [
    TenantFactory,
    UserFactory,
    MembershipFactory,
    ApiKeyFactory,
    PluginInstallationFactory,
    InboundEndpointFactory,
    EventFactory,
]
