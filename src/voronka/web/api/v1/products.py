"""The catalogue: product groups (a tree), products, and stock level snapshots."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from voronka.access.policy import Action
from voronka.errors import NotFound
from voronka.fields import CurrencyCode
from voronka.order import repository
from voronka.order import service as order_service
from voronka.order.models import Product, ProductGroup, StockLevel
from voronka.order.schemas import (
    ProductCreate,
    ProductGroupCreate,
    ProductGroupOut,
    ProductGroupUpdate,
    ProductOut,
    ProductUpdate,
    StockLevelIn,
    StockLevelOut,
)
from voronka.web.deps import DbSession, Grant, grant
from voronka.web.etag import require_match, set_etag
from voronka.web.listing import Page, Paging, SortParam, apply_sort, fetch_page

Responses = dict[int | str, dict[str, Any]]
router = APIRouter(tags=["products"], responses={401: {"description": "Not signed in"}})
Read = Annotated[Grant, grant("product", Action.READ)]
GROUP_NOT_FOUND: Responses = {404: {"description": "No such product group"}}
PRODUCT_NOT_FOUND: Responses = {404: {"description": "No such product"}}
PRECONDITIONS: Responses = {
    412: {"description": "Stale If-Match"},
    428: {"description": "If-Match missing"},
}
FORBIDDEN: Responses = {403: {"description": "Your role may not change the catalogue"}}
INVALID: Responses = {422: {"description": "Invalid input; details name the field"}}
BAD_SORT: Responses = {400: {"description": "Unknown sort field"}}
GROUP_SORTABLE = {"name": ProductGroup.name, "created_at": ProductGroup.created_at}
PRODUCT_SORTABLE = {
    "sku": Product.sku,
    "name": Product.name,
    "price": Product.price,
    "created_at": Product.created_at,
    "updated_at": Product.updated_at,
}
STOCK_SORTABLE = {"as_of": StockLevel.as_of, "warehouse": StockLevel.warehouse}


def visible_group(session: DbSession, g: Grant, group_id: int) -> ProductGroup:
    """The group of the actor's workspace, or 404."""
    group = repository.get_group(session, g.actor.workspace_id, group_id)
    if group is None:
        raise NotFound("no such product group")
    return group


def visible_product(session: DbSession, g: Grant, product_id: int) -> Product:
    """The product of the actor's workspace, or 404."""
    product = repository.get_product(session, g.actor.workspace_id, product_id)
    if product is None:
        raise NotFound("no such product")
    return product


@router.get(
    "/product-groups",
    response_model=Page[ProductGroupOut],
    summary="List product groups (build the tree from parent_id)",
    responses={**BAD_SORT, **INVALID},
)
def list_groups(
    session: DbSession,
    g: Read,
    paging: Paging,
    sort: SortParam = None,
    parent_id: int | None = None,
) -> Page[ProductGroupOut]:
    query = repository.groups_of(g.actor.workspace_id)
    if parent_id is not None:
        query = query.where(ProductGroup.parent_id == parent_id)
    query = apply_sort(query, sort, GROUP_SORTABLE, [ProductGroup.name], ProductGroup.id)
    rows, total = fetch_page(session, query, paging)
    return Page(
        items=[ProductGroupOut.model_validate(r) for r in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/product-groups",
    response_model=ProductGroupOut,
    status_code=201,
    summary="Create a product group",
    responses={**FORBIDDEN, 409: {"description": "Name taken"}, **INVALID},
)
def create_group(
    body: ProductGroupCreate,
    session: DbSession,
    response: Response,
    g: Annotated[Grant, grant("product", Action.CREATE)],
) -> ProductGroupOut:
    group = order_service.create_group(session, actor=g.actor, data=body)
    set_etag(response, group.id, group.version)
    return ProductGroupOut.model_validate(group)


@router.get(
    "/product-groups/{group_id}",
    response_model=ProductGroupOut,
    summary="Read a product group",
    responses={**GROUP_NOT_FOUND, **INVALID},
)
def read_group(group_id: int, session: DbSession, g: Read, response: Response) -> ProductGroupOut:
    group = visible_group(session, g, group_id)
    set_etag(response, group.id, group.version)
    return ProductGroupOut.model_validate(group)


@router.patch(
    "/product-groups/{group_id}",
    response_model=ProductGroupOut,
    summary="Rename or move a product group (cycles are refused)",
    responses={
        **FORBIDDEN,
        **GROUP_NOT_FOUND,
        409: {"description": "Name taken"},
        **PRECONDITIONS,
        **INVALID,
    },
)
def update_group(
    group_id: int,
    body: ProductGroupUpdate,
    request: Request,
    response: Response,
    session: DbSession,
    g: Annotated[Grant, grant("product", Action.UPDATE)],
) -> ProductGroupOut:
    group = visible_group(session, g, group_id)
    require_match(request, group.id, group.version)
    group = order_service.update_group(session, actor=g.actor, group=group, data=body)
    set_etag(response, group.id, group.version)
    return ProductGroupOut.model_validate(group)


@router.delete(
    "/product-groups/{group_id}",
    status_code=204,
    summary="Delete an empty product group",
    responses={
        **FORBIDDEN,
        **GROUP_NOT_FOUND,
        409: {"description": "The group has subgroups or products"},
        **PRECONDITIONS,
        **INVALID,
    },
)
def delete_group(
    group_id: int,
    request: Request,
    session: DbSession,
    g: Annotated[Grant, grant("product", Action.DELETE)],
) -> Response:
    group = visible_group(session, g, group_id)
    require_match(request, group.id, group.version)
    order_service.delete_group(session, actor=g.actor, group=group)
    return Response(status_code=204)


@router.get(
    "/products",
    response_model=Page[ProductOut],
    summary="List products",
    responses={**BAD_SORT, **INVALID},
)
def list_products(
    session: DbSession,
    g: Read,
    paging: Paging,
    sort: SortParam = None,
    sku: Annotated[str | None, Query(max_length=64)] = None,
    group_id: Annotated[int | None, Query(description="Includes the subgroups.")] = None,
    is_active: bool | None = None,
    currency: CurrencyCode | None = None,
) -> Page[ProductOut]:
    query = repository.filtered_products(
        repository.products_of(g.actor.workspace_id),
        sku=sku,
        group_id=group_id,
        is_active=is_active,
        currency=currency,
    )
    query = apply_sort(query, sort, PRODUCT_SORTABLE, [Product.name], Product.id)
    rows, total = fetch_page(session, query, paging)
    return Page(
        items=[ProductOut.model_validate(r) for r in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/products",
    response_model=ProductOut,
    status_code=201,
    summary="Create a product",
    responses={**FORBIDDEN, 409: {"description": "SKU taken"}, **INVALID},
)
def create_product(
    body: ProductCreate,
    session: DbSession,
    response: Response,
    g: Annotated[Grant, grant("product", Action.CREATE)],
) -> ProductOut:
    product = order_service.create_product(session, actor=g.actor, data=body)
    set_etag(response, product.id, product.version)
    return ProductOut.model_validate(product)


@router.get(
    "/products/{product_id}",
    response_model=ProductOut,
    summary="Read a product",
    responses={**PRODUCT_NOT_FOUND, **INVALID},
)
def read_product(product_id: int, session: DbSession, g: Read, response: Response) -> ProductOut:
    product = visible_product(session, g, product_id)
    set_etag(response, product.id, product.version)
    return ProductOut.model_validate(product)


@router.patch(
    "/products/{product_id}",
    response_model=ProductOut,
    summary="Change a product (past orders keep their prices)",
    responses={
        **FORBIDDEN,
        **PRODUCT_NOT_FOUND,
        409: {"description": "SKU taken"},
        **PRECONDITIONS,
        **INVALID,
    },
)
def update_product(
    product_id: int,
    body: ProductUpdate,
    request: Request,
    response: Response,
    session: DbSession,
    g: Annotated[Grant, grant("product", Action.UPDATE)],
) -> ProductOut:
    product = visible_product(session, g, product_id)
    require_match(request, product.id, product.version)
    product = order_service.update_product(session, actor=g.actor, product=product, data=body)
    set_etag(response, product.id, product.version)
    return ProductOut.model_validate(product)


@router.delete(
    "/products/{product_id}",
    status_code=204,
    summary="Delete a product that was never sold or stocked",
    responses={
        **FORBIDDEN,
        **PRODUCT_NOT_FOUND,
        409: {"description": "The product is in orders or stock levels"},
        **PRECONDITIONS,
        **INVALID,
    },
)
def delete_product(
    product_id: int,
    request: Request,
    session: DbSession,
    g: Annotated[Grant, grant("product", Action.DELETE)],
) -> Response:
    product = visible_product(session, g, product_id)
    require_match(request, product.id, product.version)
    order_service.delete_product(session, actor=g.actor, product=product)
    return Response(status_code=204)


@router.get(
    "/products/{product_id}/stock",
    response_model=Page[StockLevelOut],
    summary="Stock level snapshots of a product, newest first",
    responses={**PRODUCT_NOT_FOUND, **BAD_SORT, **INVALID},
)
def list_stock(
    product_id: int,
    session: DbSession,
    g: Annotated[Grant, grant("stock_level", Action.READ)],
    paging: Paging,
    sort: SortParam = None,
    warehouse: Annotated[str | None, Query(max_length=100)] = None,
    as_of_from: date | None = None,
    as_of_to: Annotated[date | None, Query(description="Inclusive.")] = None,
) -> Page[StockLevelOut]:
    product = visible_product(session, g, product_id)
    query = repository.stock_levels_of(
        product.id, warehouse=warehouse, as_of_from=as_of_from, as_of_to=as_of_to
    )
    query = apply_sort(
        query, sort, STOCK_SORTABLE, [StockLevel.as_of.desc(), StockLevel.warehouse], StockLevel.id
    )
    rows, total = fetch_page(session, query, paging)
    return Page(
        items=[StockLevelOut.model_validate(r) for r in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.put(
    "/products/{product_id}/stock",
    response_model=StockLevelOut,
    summary="Record the stock of a product at a warehouse on a day (replaces that snapshot)",
    responses={
        200: {"description": "The snapshot for that warehouse and day was replaced"},
        201: {"description": "A new snapshot was recorded"},
        403: {"description": "Your role may not record stock levels"},
        **PRODUCT_NOT_FOUND,
        **INVALID,
    },
)
def put_stock(
    product_id: int,
    body: StockLevelIn,
    session: DbSession,
    response: Response,
    g: Annotated[Grant, grant("stock_level", Action.UPDATE)],
) -> StockLevelOut:
    product = visible_product(session, g, product_id)
    level, created = order_service.put_stock_level(
        session, actor=g.actor, product=product, data=body
    )
    response.status_code = 201 if created else 200
    return StockLevelOut.model_validate(level)
