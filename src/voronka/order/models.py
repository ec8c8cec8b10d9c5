"""Products, orders with their lines and status history, and stock snapshots."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voronka.db.base import Base, IdMixin, TimestampMixin, VersionedMixin, WorkspaceMixin
from voronka.db.columns import enum_column_type, pd
from voronka.db.types import IdType, Money, UTCDateTime


class OrderStatus(StrEnum):
    NEW = "new"
    CONFIRMED = "confirmed"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"


class ProductGroup(IdMixin, WorkspaceMixin, TimestampMixin, VersionedMixin, Base):
    """A category of products; groups nest through ``parent_id``."""

    __tablename__ = "product_group"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(200), info=pd("none"))
    parent_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("product_group.id", ondelete="RESTRICT")
    )


class Product(IdMixin, WorkspaceMixin, TimestampMixin, VersionedMixin, Base):
    """Something sold: list price and cost price (for margin), per unit."""

    __tablename__ = "product"
    __table_args__ = (UniqueConstraint("workspace_id", "sku"),)

    sku: Mapped[str] = mapped_column(String(64), info=pd("none"))
    name: Mapped[str] = mapped_column(String(300), info=pd("none"))
    group_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("product_group.id", ondelete="RESTRICT"), index=True
    )
    price: Mapped[Decimal] = mapped_column("price_minor", Money(), info=pd("none"))
    cost_price: Mapped[Decimal] = mapped_column(
        "cost_price_minor", Money(), default=Decimal("0"), info=pd("none")
    )
    currency: Mapped[str] = mapped_column(String(3), default="RUB", info=pd("none"))
    unit: Mapped[str] = mapped_column(String(16), default="pcs", info=pd("none"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, info=pd("none"))


class Order(IdMixin, WorkspaceMixin, TimestampMixin, VersionedMixin, Base):
    """A purchase by a client. ``total`` is the sum of its lines; ``paid_at`` marks revenue."""

    __tablename__ = "sales_order"
    __table_args__ = (
        UniqueConstraint("workspace_id", "number"),
        Index("ix_sales_order_client", "client_id", "created_at"),
        Index("ix_sales_order_workspace_paid", "workspace_id", "paid_at"),
    )

    number: Mapped[str] = mapped_column(String(64), info=pd("none"))
    client_id: Mapped[int] = mapped_column(IdType, ForeignKey("client.id", ondelete="RESTRICT"))
    deal_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("deal.id", ondelete="RESTRICT"), index=True
    )
    owner_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    # where the order came from when it names it itself (an imported order's UTM values)
    channel_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("channel.id", ondelete="RESTRICT")
    )
    campaign_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("campaign.id", ondelete="RESTRICT")
    )
    status: Mapped[OrderStatus] = mapped_column(
        enum_column_type(OrderStatus, "order_status"), default=OrderStatus.NEW, info=pd("none")
    )
    total: Mapped[Decimal] = mapped_column(
        "total_minor", Money(), default=Decimal("0"), info=pd("none")
    )
    cost_total: Mapped[Decimal] = mapped_column(
        "cost_total_minor", Money(), default=Decimal("0"), info=pd("none")
    )
    currency: Mapped[str] = mapped_column(String(3), default="RUB", info=pd("none"))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("none"))
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False, info=pd("none"))

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan"
    )


class OrderLine(IdMixin, WorkspaceMixin, Base):
    """One product in an order: quantity in whole units, unit price and unit cost."""

    __tablename__ = "order_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    order_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("sales_order.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("product.id", ondelete="RESTRICT"), index=True
    )
    quantity: Mapped[int] = mapped_column(Integer, info=pd("none"))
    unit_price: Mapped[Decimal] = mapped_column("unit_price_minor", Money(), info=pd("none"))
    unit_cost: Mapped[Decimal] = mapped_column(
        "unit_cost_minor", Money(), default=Decimal("0"), info=pd("none")
    )

    order: Mapped[Order] = relationship(back_populates="lines")


class OrderStatusChange(IdMixin, WorkspaceMixin, Base):
    """One change of an order's status (the first row has ``from_status`` NULL)."""

    __tablename__ = "order_status_change"
    __table_args__ = (Index("ix_order_status_change_order", "order_id", "changed_at"),)

    order_id: Mapped[int] = mapped_column(IdType, ForeignKey("sales_order.id", ondelete="RESTRICT"))
    from_status: Mapped[OrderStatus | None] = mapped_column(
        enum_column_type(OrderStatus, "order_status_from"), info=pd("none")
    )
    to_status: Mapped[OrderStatus] = mapped_column(
        enum_column_type(OrderStatus, "order_status_to"), info=pd("none")
    )
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=pd("none"))
    changed_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="RESTRICT")
    )


class StockLevel(IdMixin, WorkspaceMixin, Base):
    """Units of a product on hand at a warehouse on a day (a snapshot)."""

    __tablename__ = "stock_level"
    __table_args__ = (UniqueConstraint("product_id", "warehouse", "as_of"),)

    product_id: Mapped[int] = mapped_column(IdType, ForeignKey("product.id", ondelete="RESTRICT"))
    warehouse: Mapped[str] = mapped_column(String(100), default="main", info=pd("none"))
    as_of: Mapped[date] = mapped_column(Date, info=pd("none"))
    quantity: Mapped[int] = mapped_column(Integer, info=pd("none"))
