"""Catalogue and order rules: product groups without cycles, unique SKUs and order numbers,
exact totals, stock snapshots, and the order status machine with its appended history.

Order status transitions (anything else is refused with ``transition_not_allowed``)::

    new        → confirmed, paid, cancelled
    confirmed  → paid, cancelled
    paid       → shipped, returned
    shipped    → delivered, returned
    delivered  → returned
    cancelled, returned: final

Lines can be changed only while an order is ``new`` or ``confirmed``. ``paid_at`` is set when
the order enters ``paid`` and kept afterwards (a returned order was still paid once).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from voronka import clock
from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.access.scope import check_owner
from voronka.audit import service as audit
from voronka.config import get_settings
from voronka.errors import (
    Conflict,
    ErrorDetail,
    InvalidInput,
    TransitionNotAllowed,
)
from voronka.fields import MAX_MONEY
from voronka.order import repository
from voronka.order.models import (
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    Product,
    ProductGroup,
    StockLevel,
)
from voronka.order.schemas import (
    OrderCreate,
    OrderLineIn,
    OrderUpdate,
    ProductCreate,
    ProductGroupCreate,
    ProductGroupUpdate,
    ProductUpdate,
    StatusChangeIn,
    StockLevelIn,
)

S = OrderStatus
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.NEW: frozenset({S.CONFIRMED, S.PAID, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.SHIPPED, S.RETURNED}),
    S.SHIPPED: frozenset({S.DELIVERED, S.RETURNED}),
    S.DELIVERED: frozenset({S.RETURNED}),
    S.CANCELLED: frozenset(),
    S.RETURNED: frozenset(),
}
EDITABLE = frozenset({S.NEW, S.CONFIRMED})
#: Client clocks run a little ahead; a status change further in the future is a mistake.
FUTURE_TOLERANCE = timedelta(minutes=5)


class InUse(Conflict):
    code = "in_use"


class OrderLocked(Conflict):
    code = "order_locked"


def _duplicate(field: str, value: str, what: str) -> Conflict:
    return Conflict(
        f"{what} {value!r} already exists", [ErrorDetail("already taken", field=field, value=value)]
    )


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", [ErrorDetail(message, field=field)])


# -- product groups -------------------------------------------------------------------------


def _check_parent(session: Session, actor: Actor, group_id: int | None, parent_id: int) -> None:
    if repository.get_group(session, actor.workspace_id, parent_id) is None:
        raise _invalid("parent_id", "no such product group")
    if group_id is not None and group_id in repository.ancestor_ids(session, parent_id):
        raise _invalid("parent_id", "a group cannot be placed inside itself or its subgroups")


def create_group(session: Session, *, actor: Actor, data: ProductGroupCreate) -> ProductGroup:
    """Create a product group, at the root or under ``parent_id``."""
    if repository.group_name_taken(session, actor.workspace_id, data.name):
        raise _duplicate("name", data.name, "product group")
    if data.parent_id is not None:
        _check_parent(session, actor, None, data.parent_id)
    group = ProductGroup(workspace_id=actor.workspace_id, name=data.name, parent_id=data.parent_id)
    session.add(group)
    session.flush()
    audit.record(session, actor, action="create", entity="product_group", entity_id=group.id)
    return group


def update_group(
    session: Session, *, actor: Actor, group: ProductGroup, data: ProductGroupUpdate
) -> ProductGroup:
    """Rename or move a group; moving it under itself or a subgroup is refused."""
    fields = data.model_dump(exclude_unset=True)
    if fields.get("name") is None and "name" in fields:
        raise _invalid("name", "cannot be null")
    if "name" in fields and repository.group_name_taken(
        session, actor.workspace_id, fields["name"], except_id=group.id
    ):
        raise _duplicate("name", fields["name"], "product group")
    if fields.get("parent_id") not in (None, group.parent_id):
        _check_parent(session, actor, group.id, fields["parent_id"])
    audit.apply_changes(session, actor, group, fields, entity="product_group")
    return group


def delete_group(session: Session, *, actor: Actor, group: ProductGroup) -> None:
    """Delete an empty group; one with subgroups or products is refused."""
    if repository.group_in_use(session, group.id):
        raise InUse("the group still has subgroups or products; move them first")
    session.delete(group)
    session.flush()
    audit.record(session, actor, action="delete", entity="product_group", entity_id=group.id)


# -- products -------------------------------------------------------------------------------


def _check_group(session: Session, actor: Actor, group_id: int | None) -> None:
    if group_id is not None and repository.get_group(session, actor.workspace_id, group_id) is None:
        raise _invalid("group_id", "no such product group")


def create_product(session: Session, *, actor: Actor, data: ProductCreate) -> Product:
    """Create a product; the SKU must be new in the workspace."""
    if repository.sku_taken(session, actor.workspace_id, data.sku):
        raise _duplicate("sku", data.sku, "a product with SKU")
    _check_group(session, actor, data.group_id)
    product = Product(
        workspace_id=actor.workspace_id,
        **data.model_dump(exclude={"currency"}),
        currency=data.currency or get_settings().default_currency,
    )
    session.add(product)
    session.flush()
    audit.record(session, actor, action="create", entity="product", entity_id=product.id)
    return product


def update_product(
    session: Session, *, actor: Actor, product: Product, data: ProductUpdate
) -> Product:
    """Apply the fields set in ``data``; prices of past orders are not touched."""
    fields = data.model_dump(exclude_unset=True)
    for name in ("sku", "name", "price", "cost_price", "currency", "unit", "is_active"):
        if name in fields and fields[name] is None:
            raise _invalid(name, "cannot be null")
    if "sku" in fields and repository.sku_taken(
        session, actor.workspace_id, fields["sku"], except_id=product.id
    ):
        raise _duplicate("sku", fields["sku"], "a product with SKU")
    if fields.get("group_id") not in (None, product.group_id):
        _check_group(session, actor, fields["group_id"])
    audit.apply_changes(session, actor, product, fields, entity="product")
    return product


def delete_product(session: Session, *, actor: Actor, product: Product) -> None:
    """Delete a product nothing refers to; sold products are deactivated instead."""
    if repository.product_in_use(session, product.id):
        raise InUse("the product appears in orders or stock levels; set is_active to false")
    session.delete(product)
    session.flush()
    audit.record(session, actor, action="delete", entity="product", entity_id=product.id)


def put_stock_level(
    session: Session, *, actor: Actor, product: Product, data: StockLevelIn
) -> tuple[StockLevel, bool]:
    """Create or replace the snapshot for (warehouse, as_of); return it and whether it is new."""
    level = repository.stock_level(session, product.id, data.warehouse, data.as_of)
    created = level is None
    if level is None:
        level = StockLevel(
            workspace_id=actor.workspace_id,
            product_id=product.id,
            warehouse=data.warehouse,
            as_of=data.as_of,
            quantity=data.quantity,
        )
        session.add(level)
    else:
        level.quantity = data.quantity
    session.flush()
    audit.record(
        session,
        actor,
        action="create" if created else "update",
        entity="stock_level",
        entity_id=level.id,
        detail={"product_id": product.id, "quantity": data.quantity},
    )
    return level, created


# -- orders ---------------------------------------------------------------------------------


def _check_owner(session: Session, actor: Actor, scope: Scope, owner_id: int | None) -> None:
    check_owner(
        session, actor, scope, owner_id, refusal="you may not credit an order to that owner"
    )


def _check_deal(session: Session, actor: Actor, deal_id: int | None, client_id: int) -> None:
    if deal_id is None:
        return
    deal = repository.live_deal(session, actor.workspace_id, deal_id)
    if deal is None or deal.client_id != client_id:
        raise _invalid("deal_id", "no such deal of this client")


def _line_price(
    given: Decimal | None, product: Product, default: Decimal, currency: str, field: str
) -> Decimal:
    """The given price, or the product's own when it is in the order's currency."""
    if given is not None:
        return given
    if product.currency != currency:
        raise _invalid(
            field, f"the product is priced in {product.currency}; give the price in {currency}"
        )
    return default


def _build_lines(
    session: Session, actor: Actor, lines: Sequence[OrderLineIn], currency: str
) -> list[OrderLine]:
    """Order lines priced from the input or, by default, from the products."""
    products = repository.products_by_id(session, actor.workspace_id, (x.product_id for x in lines))
    built = []
    for index, line in enumerate(lines):
        product = products.get(line.product_id)
        if product is None or not product.is_active:
            raise _invalid(f"lines.{index}.product_id", "no such active product")
        unit_price = _line_price(
            line.unit_price, product, product.price, currency, f"lines.{index}.unit_price"
        )
        unit_cost = _line_price(
            line.unit_cost, product, product.cost_price, currency, f"lines.{index}.unit_cost"
        )
        built.append(
            OrderLine(
                workspace_id=actor.workspace_id,
                product_id=product.id,
                quantity=line.quantity,
                unit_price=unit_price,
                unit_cost=unit_cost,
            )
        )
    return built


def _set_lines(order: Order, lines: list[OrderLine]) -> None:
    """Replace the order's lines and recompute its totals exactly."""
    total = sum((line.quantity * line.unit_price for line in lines), Decimal("0"))
    cost_total = sum((line.quantity * line.unit_cost for line in lines), Decimal("0"))
    if total >= MAX_MONEY or cost_total >= MAX_MONEY:
        raise _invalid("lines", f"the order total must stay below {MAX_MONEY}")
    order.lines.clear()
    order.lines.extend(lines)
    order.total, order.cost_total = total, cost_total


def _append_change(
    session: Session,
    actor: Actor,
    order: Order,
    to_status: OrderStatus,
    at: datetime,
    from_status: OrderStatus | None,
) -> None:
    session.add(
        OrderStatusChange(
            workspace_id=order.workspace_id,
            order_id=order.id,
            from_status=from_status,
            to_status=to_status,
            changed_at=at,
            changed_by_id=actor.user_id,
        )
    )


def create_order(session: Session, *, actor: Actor, scope: Scope, data: OrderCreate) -> Order:
    """Create an order with its lines and the first status change (none → new)."""
    client = repository.visible_client(session, actor, scope, data.client_id)
    if client is None:
        raise _invalid("client_id", "no such client")
    if repository.number_taken(session, actor.workspace_id, data.number):
        raise _duplicate("number", data.number, "an order with number")
    _check_deal(session, actor, data.deal_id, client.id)
    owner_id = data.owner_id if data.owner_id is not None else client.owner_id
    if data.owner_id is not None:
        _check_owner(session, actor, scope, data.owner_id)
    currency = data.currency or get_settings().default_currency
    order = Order(
        workspace_id=actor.workspace_id,
        number=data.number,
        client_id=client.id,
        deal_id=data.deal_id,
        owner_id=owner_id,
        status=OrderStatus.NEW,
        currency=currency,
    )
    _set_lines(order, _build_lines(session, actor, data.lines, currency))
    session.add(order)
    session.flush()
    _append_change(session, actor, order, OrderStatus.NEW, order.created_at, None)
    session.flush()
    audit.record(session, actor, action="create", entity="order", entity_id=order.id)
    return order


def _same_lines(order: Order, lines: list[OrderLine]) -> bool:
    def key(line: OrderLine) -> tuple[int, int, Decimal, Decimal]:
        return line.product_id, line.quantity, line.unit_price, line.unit_cost

    return [key(x) for x in order.lines] == [key(x) for x in lines]


def update_order(session: Session, *, actor: Actor, order: Order, data: OrderUpdate) -> Order:
    """Change the deal link or replace the lines (only while new or confirmed)."""
    changes: dict[str, tuple[Any, Any]] = {}
    if "deal_id" in data.model_fields_set and data.deal_id != order.deal_id:
        _check_deal(session, actor, data.deal_id, order.client_id)
        changes["deal_id"] = (order.deal_id, data.deal_id)
        order.deal_id = data.deal_id
    if data.lines is not None:
        if order.status not in EDITABLE:
            raise OrderLocked(
                f"lines of a {order.status.value} order cannot change; "
                "only new and confirmed orders are editable",
                [ErrorDetail(f"order is {order.status.value}", field="lines")],
            )
        lines = _build_lines(session, actor, data.lines, order.currency)
        if not _same_lines(order, lines):
            old_total = order.total
            _set_lines(order, lines)
            changes["total"] = (old_total, order.total)
    if changes:
        order.updated_at = clock.now()  # bump the version even when only lines changed
        session.flush()
        audit.record(
            session,
            actor,
            action="update",
            entity="order",
            entity_id=order.id,
            changes=audit.redact_changes(Order, changes),
        )
    return order


def _refuse_transition(current: OrderStatus, target: OrderStatus) -> TransitionNotAllowed:
    allowed = sorted(s.value for s in TRANSITIONS[current])
    reason = (
        f"{current.value} is final"
        if not allowed
        else f"from {current.value} an order can go to: {', '.join(allowed)}"
    )
    return TransitionNotAllowed(
        f"an order cannot go from {current.value} to {target.value}: {reason}",
        [ErrorDetail(reason, field="status", value=target.value)],
    )


def _change_time(session: Session, order: Order, requested: datetime | None) -> datetime:
    now = clock.now()
    at = requested or now
    if at > now + FUTURE_TOLERANCE:
        raise _invalid("changed_at", "cannot be in the future")
    last = repository.last_change_at(session, order.id)
    if last is not None and at < last:
        raise _invalid("changed_at", f"cannot be before the previous change ({last.isoformat()})")
    return at


def change_status(session: Session, *, actor: Actor, order: Order, data: StatusChangeIn) -> Order:
    """Move an order along the transition table and append the change to its history."""
    current, target = order.status, data.status
    if target not in TRANSITIONS[current]:
        raise _refuse_transition(current, target)
    at = _change_time(session, order, data.changed_at)
    order.status = target
    if target is OrderStatus.PAID and order.paid_at is None:
        order.paid_at = at
    _append_change(session, actor, order, target, at, current)
    session.flush()
    audit.record(
        session,
        actor,
        action="update",
        entity="order",
        entity_id=order.id,
        changes={"status": [current.value, target.value]},
    )
    return order


def soft_delete_order(session: Session, *, actor: Actor, order: Order) -> None:
    """Hide an order that never brought revenue; paid orders are returned, not deleted."""
    if order.paid_at is not None:
        raise InUse("the order has been paid; change its status to returned instead")
    order.is_deleted = True
    session.flush()
    audit.record(session, actor, action="delete", entity="order", entity_id=order.id)
