"""An installation's settings: what goes where in amoCRM. Its JSON schema is the form."""

from __future__ import annotations

import re
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from junction_order_to_lead.templates import TemplateProblem, check

# Machine names of amoCRM fields: `lead.cf.<name>` or `contact.cf.<name>`.
MACHINE_NAME = re.compile(r"^(lead|contact)\.cf\.[a-z0-9_]+$")
DEFAULT_LEAD_NAME = "Order {{ order.number or order.id }}"


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PartnerLookup(_Settings):
    contact_field: str = Field(
        description="Machine name of the contact field that holds the partner id "
        "(`contact.cf.partner_id`), defined under `amo_fields`."
    )
    order_field: str = Field(
        default="partner_id", description="The order field that carries the partner id."
    )
    when_missing: Literal["fail", "no_contact", "create_contact"] = Field(
        default="fail",
        description="No contact holds the partner id: fail the order (a person fixes the "
        "contact and replays it), create the lead without a contact, or create the contact.",
    )


class NoteSettings(_Settings):
    enabled: bool = True
    template: str | None = Field(
        default=None,
        description="Jinja2 template of the note; empty: the whole order, readably.",
    )
    language: Literal["ru", "en"] = "ru"


class ProductSettings(_Settings):
    enabled: bool = True
    match_by: Literal["sku", "name"] = "sku"
    create_missing: bool = Field(
        default=True, description="Create catalog elements (with their price) that are missing."
    )


class OrderToLeadConfig(_Settings):
    connection_id: uuid.UUID | None = Field(
        default=None, description="The amoCRM connection; empty: the workspace's only one."
    )
    pipeline_id: int = Field(gt=0)
    status_id: int = Field(gt=0)
    lead_name: str = Field(default=DEFAULT_LEAD_NAME, max_length=2000)
    responsible_user_id: int | None = None
    tags: list[str] = Field(default_factory=list, max_length=20)
    price_from_total: bool = True
    partner: PartnerLookup
    amo_fields: dict[str, int] = Field(
        default_factory=dict,
        description="Machine names for amoCRM field ids: `lead.cf.payment_address` → 685733.",
    )
    mappings: dict[str, str] = Field(
        default_factory=dict,
        description="Order field → machine name: `payment_address_1` → `lead.cf.payment_address`.",
    )
    order_marker_field: str | None = Field(
        default=None,
        description="Machine name of a lead text field that receives `order:<id>`; "
        "searched before creating a lead, so no order makes two.",
    )
    note: NoteSettings = Field(default_factory=NoteSettings)
    products: ProductSettings = Field(default_factory=ProductSettings)
    order_paths: dict[str, str] = Field(
        default_factory=dict, description="For generic JSON endpoints: where each order field is."
    )
    contact_cache_seconds: int = Field(default=86_400, ge=0, le=30 * 86_400)

    @field_validator("amo_fields")
    @classmethod
    def _machine_names(cls, value: dict[str, int]) -> dict[str, int]:
        for name, field_id in value.items():
            if not MACHINE_NAME.match(name):
                raise ValueError(
                    f"{name!r} is not a machine name (lead.cf.<name> or contact.cf.<name>, "
                    "lower case)"
                )
            if field_id <= 0:
                raise ValueError(f"{name!r}: {field_id} is not an amoCRM field id")
        return value

    @field_validator("lead_name")
    @classmethod
    def _lead_name_compiles(cls, value: str) -> str:
        return _compiles(value)

    @model_validator(mode="after")
    def _references(self) -> OrderToLeadConfig:
        known = set(self.amo_fields)
        for order_field, target in self.mappings.items():
            if target not in known:
                raise ValueError(
                    f"mapping {order_field!r} → {target!r}: {target!r} is not defined in amo_fields"
                )
        references: list[tuple[str, str | None]] = [
            ("partner.contact_field", self.partner.contact_field),
            ("order_marker_field", self.order_marker_field),
        ]
        for label, reference in references:
            if reference is not None and reference not in known:
                raise ValueError(f"{label}: {reference!r} is not defined in amo_fields")
        if not self.partner.contact_field.startswith("contact.cf."):
            raise ValueError("partner.contact_field must be a contact field (contact.cf.…)")
        if self.order_marker_field and not self.order_marker_field.startswith("lead.cf."):
            raise ValueError("order_marker_field must be a lead field (lead.cf.…)")
        if self.note.template is not None:
            _compiles(self.note.template)
        return self


def _compiles(source: str) -> str:
    try:
        check(source)
    except TemplateProblem as exc:
        raise ValueError(str(exc)) from None
    return source
