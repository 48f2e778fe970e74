"""An installation's settings: what goes where in amoCRM. Its JSON schema is the form."""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from junction_order_to_lead.templates import TemplateProblem, check

# Machine names of amoCRM fields: `lead.cf.<name>` or `contact.cf.<name>`.
MACHINE_NAME = re.compile(r"^(lead|contact)\.cf\.[a-z0-9_]+$")
# A field named by its amoCRM id, without an `amo_fields` entry: `lead.cf.685733`.
FIELD_BY_ID = re.compile(r"^(lead|contact)\.cf\.([0-9]+)$")
DEFAULT_LEAD_NAME = "Order {{ order.number or order.id }}"


def _ru(
    title: str,
    description: str | None = None,
    *,
    columns: tuple[tuple[str, str], tuple[str, str]] | None = None,
    widget: str | None = None,
    advanced: bool = False,
    connection: str | None = None,
    options: dict[str, tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """The Russian label of a setting, for the web app's form; a name → value table also
    names its columns, and a one-of setting its `options`, as (English, Russian) pairs;
    the other hints are those of `junction.plugins.config_schema`."""
    words: dict[str, str] = {
        "title": title,
        **({"description": description} if description else {}),
    }
    i18n: dict[str, dict[str, Any]] = {"ru": words}
    if columns is not None:
        (key_en, key_ru), (value_en, value_ru) = columns
        i18n["en"] = {"key": key_en, "value": value_en}
        words.update(key=key_ru, value=value_ru)
    english: dict[str, Any] = i18n.setdefault("en", {})
    russian: dict[str, Any] = words
    if options is not None:
        english["options"] = {value: en for value, (en, _) in options.items()}
        russian["options"] = {value: ru for value, (_, ru) in options.items()}
    if not english:
        del i18n["en"]
    hints: dict[str, Any] = {"x-i18n": i18n}
    if widget:
        hints["x-widget"] = widget
    if advanced:
        hints["x-advanced"] = True
    if connection:
        hints["x-connection"] = connection
    return hints


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PartnerLookup(_Settings):
    contact_field: str = Field(
        title="Contact field with the partner id",
        description="The contact field that holds the partner id: `contact.cf.<field id>`, "
        "or a machine name defined under `amo_fields`.",
        json_schema_extra=_ru(
            "Поле контакта с ID партнёра",
            "Поле контакта, в котором хранится ID партнёра.",
        ),
    )
    order_field: str = Field(
        default="partner_id",
        title="Order field with the partner id",
        description="The order field that carries the partner id.",
        json_schema_extra=_ru(
            "Поле заказа с ID партнёра", "Поле заказа, где передаётся ID партнёра."
        ),
    )
    when_missing: Literal["fail", "no_contact", "create_contact"] = Field(
        default="fail",
        title="When no contact has the partner id",
        description="Failing the order lets a person fix the contact and replay it.",
        json_schema_extra=_ru(
            "Если контакт с ID партнёра не найден",
            "Если заказ завершился ошибкой, контакт исправляют и повторяют заказ.",
            options={
                "fail": ("Fail the order", "Заказ завершается ошибкой"),
                "no_contact": ("Create the lead without a contact", "Сделка без контакта"),
                "create_contact": ("Create the contact", "Создать контакт"),
            },
        ),
    )


class NoteSettings(_Settings):
    enabled: bool = Field(
        default=True,
        title="Add a note with the order",
        json_schema_extra=_ru("Добавлять примечание с заказом"),
    )
    template: str | None = Field(
        default=None,
        title="Note template",
        description="Jinja2 template of the note; empty: the whole order, readably.",
        json_schema_extra=_ru(
            "Шаблон примечания",
            "Шаблон Jinja2; пусто — весь заказ в читаемом виде.",
            widget="textarea",
        ),
    )
    language: Literal["ru", "en"] = Field(
        default="ru",
        title="Language of the note",
        json_schema_extra=_ru(
            "Язык примечания",
            options={"ru": ("Russian", "Русский"), "en": ("English", "Английский")},
        ),
    )


class ProductSettings(_Settings):
    enabled: bool = Field(
        default=True,
        title="Attach the ordered products",
        json_schema_extra=_ru("Прикреплять товары заказа"),
    )
    match_by: Literal["sku", "name"] = Field(
        default="sku",
        title="Find catalog elements by",
        json_schema_extra=_ru(
            "Искать товары каталога по",
            options={"sku": ("SKU", "Артикулу"), "name": ("Name", "Названию")},
        ),
    )
    create_missing: bool = Field(
        default=True,
        title="Create missing catalog elements",
        description="Create catalog elements (with their price) that are missing.",
        json_schema_extra=_ru(
            "Создавать недостающие товары", "Создавать в каталоге недостающие товары с их ценой."
        ),
    )


class OrderToLeadConfig(_Settings):
    connection_id: uuid.UUID | None = Field(
        default=None,
        title="amoCRM connection",
        description="The amoCRM connection; empty: the workspace's only one.",
        json_schema_extra=_ru(
            "Подключение amoCRM",
            "Пусто — единственное подключение пространства.",
            connection="amocrm",
            advanced=True,
        ),
    )
    pipeline_id: int = Field(gt=0, title="Pipeline", json_schema_extra=_ru("Воронка"))
    status_id: int = Field(gt=0, title="Stage", json_schema_extra=_ru("Этап"))
    lead_name: str = Field(
        default=DEFAULT_LEAD_NAME,
        max_length=2000,
        title="Lead name",
        description="A Jinja2 template with the order as `order`.",
        json_schema_extra=_ru("Название сделки", "Шаблон Jinja2, заказ доступен как `order`."),
    )
    responsible_user_id: int | None = Field(
        default=None,
        title="Responsible user",
        description="Empty: amoCRM's default.",
        json_schema_extra=_ru("Ответственный", "Пусто — как решит amoCRM."),
    )
    tags: list[str] = Field(
        default_factory=list,
        max_length=20,
        title="Tags",
        description="Set on every lead.",
        json_schema_extra=_ru("Теги", "Ставятся на каждую сделку."),
    )
    price_from_total: bool = Field(
        default=True,
        title="Lead budget is the order total",
        json_schema_extra=_ru("Бюджет сделки — сумма заказа"),
    )
    partner: PartnerLookup = Field(
        title="Partner's contact", json_schema_extra=_ru("Контакт партнёра")
    )
    amo_fields: dict[str, int] = Field(
        default_factory=dict,
        title="Field names",
        description="Machine names for amoCRM field ids: `lead.cf.payment_address` → 685733. "
        "Optional: fields may be named by id (`lead.cf.685733`).",
        json_schema_extra=_ru(
            "Имена полей",
            "Машинные имена для ID полей amoCRM: `lead.cf.payment_address` → 685733. "
            "Не обязательно: поле можно указать по ID (`lead.cf.685733`).",
            columns=(("Machine name", "Машинное имя"), ("amoCRM field", "Поле amoCRM")),
            advanced=True,
        ),
    )
    mappings: dict[str, str] = Field(
        default_factory=dict,
        title="Field mapping",
        description="Order field → amoCRM field of the lead or the contact.",
        json_schema_extra=_ru(
            "Соответствие полей",
            "Поле заказа → поле сделки или контакта.",
            columns=(("Order field", "Поле заказа"), ("amoCRM field", "Поле amoCRM")),
        ),
    )
    order_marker_field: str | None = Field(
        default=None,
        title="Order marker field",
        description="A lead text field that receives `order:<id>`; searched before creating "
        "a lead, so no order makes two.",
        json_schema_extra=_ru(
            "Поле-метка заказа",
            "Текстовое поле сделки, куда пишется `order:<id>`; по нему ищут перед созданием "
            "сделки, чтобы заказ не создал две.",
            advanced=True,
        ),
    )
    note: NoteSettings = Field(
        default_factory=NoteSettings, title="Note", json_schema_extra=_ru("Примечание")
    )
    products: ProductSettings = Field(
        default_factory=ProductSettings, title="Products", json_schema_extra=_ru("Товары")
    )
    order_paths: dict[str, str] = Field(
        default_factory=dict,
        title="Where order fields are (generic JSON)",
        description="For generic JSON endpoints: the path of each order field in the delivery.",
        json_schema_extra=_ru(
            "Где поля заказа (произвольный JSON)",
            "Для адресов в формате generic JSON: путь к каждому полю заказа.",
            columns=(("Order field", "Поле заказа"), ("Path in the delivery", "Путь в запросе")),
            advanced=True,
        ),
    )
    contact_cache_seconds: int = Field(
        default=86_400,
        ge=0,
        le=30 * 86_400,
        title="Remember a found contact (seconds)",
        json_schema_extra=_ru("Помнить найденный контакт (секунд)", advanced=True),
    )

    # Every field the settings name, machine name → amoCRM id (see `field_id`).
    _field_ids: dict[str, int] = PrivateAttr(default_factory=dict)

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
        named = dict(self.amo_fields)
        references: list[tuple[str, str | None]] = [
            *((f"mappings.{order_field}", target) for order_field, target in self.mappings.items()),
            ("partner.contact_field", self.partner.contact_field),
            ("order_marker_field", self.order_marker_field),
        ]
        for label, reference in references:
            if reference is None or reference in named:
                continue
            by_id = FIELD_BY_ID.match(reference)
            if by_id is None:
                raise ValueError(
                    f"{label}: {reference!r} is neither a field id (lead.cf.<id>, "
                    "contact.cf.<id>) nor defined in amo_fields"
                )
            named[reference] = int(by_id.group(2))
        if not self.partner.contact_field.startswith("contact.cf."):
            raise ValueError("partner.contact_field must be a contact field (contact.cf.…)")
        if self.order_marker_field and not self.order_marker_field.startswith("lead.cf."):
            raise ValueError("order_marker_field must be a lead field (lead.cf.…)")
        if self.note.template is not None:
            _compiles(self.note.template)
        self._field_ids = named
        return self

    @property
    def field_ids(self) -> dict[str, int]:
        """Every amoCRM field the settings name, machine name → id: those of `amo_fields`
        and those named by id."""
        return self._field_ids

    def field_id(self, machine_name: str) -> int:
        return self._field_ids[machine_name]


def _compiles(source: str) -> str:
    try:
        check(source)
    except TemplateProblem as exc:
        raise ValueError(str(exc)) from None
    return source
