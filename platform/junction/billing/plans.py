"""The plans, read from configuration: what each one costs in Stripe and what it allows.

Plans change with the business, not with the code: they live in a YAML file
(`JUNCTION_BILLING_PLANS_FILE`, or the one shipped with Junction), read once at start-up.
A file that is wrong stops start-up with a message that names the plan and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_PLANS_FILE = Path(__file__).with_name("default_plans.yaml")


class PlansError(ValueError):
    """The plans file cannot be used; the message says where and why."""


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
    name: Annotated[str, Field(min_length=1, max_length=100)]
    stripe_price: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    # Events processed per billing period; None: unlimited.
    monthly_events: Annotated[int, Field(ge=0)] | None = None
    # Plugins a tenant on the plan may use; None: all of them.
    plugins: tuple[str, ...] | None = None
    trial_days: Annotated[int, Field(ge=0, le=730)] = 0

    @property
    def purchasable(self) -> bool:
        return self.stripe_price is not None

    def allows(self, plugin: str) -> bool:
        return self.plugins is None or plugin in self.plugins


class Plans(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    free: str
    plans: Annotated[tuple[Plan, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _consistent(self) -> Plans:
        keys = [plan.key for plan in self.plans]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise ValueError(f"plan keys must be unique; repeated: {', '.join(repeated)}")
        prices = [plan.stripe_price for plan in self.plans if plan.stripe_price]
        shared = sorted({price for price in prices if prices.count(price) > 1})
        if shared:
            raise ValueError(f"each Stripe price belongs to one plan; shared: {', '.join(shared)}")
        if self.free not in keys:
            raise ValueError(f"free: no plan has the key {self.free!r}")
        if self.by_key(self.free).purchasable:
            raise ValueError(f"free: the plan {self.free!r} has a Stripe price; it must not")
        return self

    def by_key(self, key: str) -> Plan:
        for plan in self.plans:
            if plan.key == key:
                return plan
        raise KeyError(key)

    def find(self, key: str) -> Plan | None:
        try:
            return self.by_key(key)
        except KeyError:
            return None

    def by_price(self, price: str | None) -> Plan | None:
        for plan in self.plans:
            if price is not None and plan.stripe_price == price:
                return plan
        return None

    @property
    def free_plan(self) -> Plan:
        return self.by_key(self.free)


def load_plans(path: Path | None) -> Plans:
    source = path or DEFAULT_PLANS_FILE
    try:
        document = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlansError(f"{source}: cannot be read ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise PlansError(f"{source}: not valid YAML ({exc})") from None
    try:
        return Plans.model_validate(document)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False, include_input=False):
            where = ".".join(str(part) for part in error["loc"]) or "(the file)"
            problems.append(f"{where}: {str(error['msg']).removeprefix('Value error, ')}")
        raise PlansError(f"{source}: " + "; ".join(problems)) from None
