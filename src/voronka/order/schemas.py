"""API shapes for product groups, products, stock levels and orders.

Money is an exact decimal: it is read from a JSON string (``"33.33"``) or number, refused
when negative or with more than two decimals, and always written back as a string with two
decimals. Currencies are ISO 4217 codes in upper case.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
)

from voronka.fields import AwareUTC, CurrencyCode, MoneyIn, MoneyOut, Strict
from voronka.order.models import OrderStatus

MAX_QUANTITY = 1_000_000
MAX_ORDER_LINES = 500


class ProductGroupCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    parent_id: int | None = None


class ProductGroupUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    parent_id: int | None = Field(None, description="null makes the group a root.")


class ProductGroupOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    parent_id: int | None
    created_at: datetime
    updated_at: datetime
    version: int


class ProductCreate(Strict):
    sku: str = Field(min_length=1, max_length=64, description="Unique within the workspace.")
    name: str = Field(min_length=1, max_length=300)
    group_id: int | None = None
    price: MoneyIn
    cost_price: MoneyIn = Decimal("0")
    currency: CurrencyCode | None = Field(None, description="Defaults to the company currency.")
    unit: str = Field("pcs", min_length=1, max_length=16)
    is_active: bool = True


class ProductUpdate(Strict):
    sku: str | None = Field(None, min_length=1, max_length=64)
    name: str | None = Field(None, min_length=1, max_length=300)
    group_id: int | None = None
    price: MoneyIn | None = None
    cost_price: MoneyIn | None = None
    currency: CurrencyCode | None = None
    unit: str | None = Field(None, min_length=1, max_length=16)
    is_active: bool | None = None


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku: str
    name: str
    group_id: int | None
    price: MoneyOut
    cost_price: MoneyOut
    currency: str
    unit: str
    is_active: bool
    created_at: datetime
    updated_at: datetime
    version: int


class StockLevelIn(Strict):
    warehouse: str = Field("main", min_length=1, max_length=100)
    as_of: date
    quantity: int = Field(ge=0, le=2_000_000_000, description="Units on hand that day.")


class StockLevelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    product_id: int
    warehouse: str
    as_of: date
    quantity: int


class OrderLineIn(Strict):
    product_id: int
    quantity: int = Field(ge=1, le=MAX_QUANTITY, description="Whole units.")
    unit_price: MoneyIn | None = Field(None, description="Defaults to the product's price.")
    unit_cost: MoneyIn | None = Field(None, description="Defaults to the product's cost price.")


class OrderCreate(Strict):
    number: str = Field(min_length=1, max_length=64, description="Unique within the workspace.")
    client_id: int
    deal_id: int | None = Field(None, description="A deal of the same client.")
    owner_id: int | None = Field(None, description="Defaults to the client's owner.")
    currency: CurrencyCode | None = Field(None, description="Defaults to the company currency.")
    lines: list[OrderLineIn] = Field(min_length=1, max_length=MAX_ORDER_LINES)


class OrderUpdate(Strict):
    """Fields to change; ``lines`` replaces every line and is allowed while new or confirmed."""

    deal_id: int | None = None
    lines: list[OrderLineIn] | None = Field(None, min_length=1, max_length=MAX_ORDER_LINES)


class OrderLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    product_id: int
    quantity: int
    unit_price: MoneyOut
    unit_cost: MoneyOut

    @computed_field(description="quantity × unit_price")  # type: ignore[prop-decorator]
    @property
    def amount(self) -> MoneyOut:
        return self.quantity * self.unit_price


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    client_id: int
    deal_id: int | None
    owner_id: int | None
    status: OrderStatus
    total: MoneyOut = Field(description="Sum of quantity × unit_price over the lines.")
    cost_total: MoneyOut = Field(description="Sum of quantity × unit_cost over the lines.")
    currency: str
    paid_at: datetime | None
    lines: list[OrderLineOut]
    created_at: datetime
    updated_at: datetime
    version: int


class StatusChangeIn(Strict):
    status: OrderStatus
    changed_at: AwareUTC | None = Field(
        None, description="When it happened (aware); defaults to now; not before the last change."
    )


class StatusChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    from_status: OrderStatus | None
    to_status: OrderStatus
    changed_at: datetime
    changed_by_id: int | None
