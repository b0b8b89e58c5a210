"""Order endpoints: place a basket of several listings all or nothing, pay it, cancel it,
read it, list mine."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from application.orders import OrderItem
from domain.order import OrderItemError, OrderUnavailableError
from interfaces.http.deps import CommandDep
from interfaces.http.etag import set_etag
from interfaces.http.listing_schemas import ReasonIn
from interfaces.http.order_schemas import OrderCreate, OrderPaymentPublic, OrderPublic
from interfaces.http.pagination import PageParamsDep
from interfaces.http.positions import min_position, set_position
from interfaces.http.problems import ProblemError
from interfaces.http.schemas_common import Page, problem_responses
from projections.orders import list_orders

router = APIRouter(tags=["orders"], responses=problem_responses(401, 403, 404, 409, 422))


def _respond(command: CommandDep, response: Response, order_id: UUID, position: int) -> OrderPublic:
    orders = command.container.orders
    order = orders.get(order_id, viewer=command.actor)
    set_position(response, position)
    set_etag(response, order.version)
    return OrderPublic.of(orders.describe(order, command.actor))


@router.post("/orders", status_code=status.HTTP_201_CREATED, response_model=OrderPublic)
def place_order(body: OrderCreate, command: CommandDep, response: Response) -> OrderPublic:
    """Holds every item (each listing with its own period) and creates one booking per item
    plus the order, in one atomic save: all or nothing. 409 `unavailable` lists every item
    whose units are taken (`items: [{index, listing_id, detail}]`) and nothing is held; 422
    names the first item (`item_index`) that breaks a booking rule. One service fee for the
    whole basket. A `coupon_code` is redeemed once for the order, its discount split over
    the items in its scope (422 `coupon_*` when it does not apply).
    Send an `Idempotency-Key` so a retried request never orders twice."""
    items = [
        OrderItem(i.listing_id, i.start, i.end, quantity=i.quantity, guests=i.guests)
        for i in body.items
    ]
    try:
        with command.context():
            order_id, position = command.container.orders.place(
                command.actor,
                items,
                guests=body.guests,
                at=command.now,
                coupon_code=body.coupon_code,
            )
    except OrderUnavailableError as error:
        raise ProblemError(409, error.code, error.detail, items=error.items) from None
    except OrderItemError as error:
        raise ProblemError(
            422, error.code, error.detail, item_index=error.index, listing_id=error.listing_id
        ) from None
    response.headers["Location"] = f"/api/v1/orders/{order_id}"
    return _respond(command, response, order_id, position)


@router.post("/orders/{order_id}/payment", response_model=OrderPaymentPublic)
def pay_order(order_id: UUID, command: CommandDep, response: Response) -> OrderPaymentPublic:
    """Pays the whole order with one command and ONE processor charge for the total of its
    live items (`charge_id`, `client_secret`); each item keeps its own payment (its share of
    the charge, its deposit hold, refunds and payout). 409 `order_not_payable` while an item
    still awaits its owner's approval."""
    with command.context():
        result: dict[str, Any] = command.container.order_payments.pay(
            command.actor, order_id, command.now
        )
    set_position(response, result["position"])
    return OrderPaymentPublic.model_validate(result)


@router.post("/orders/{order_id}/cancel", response_model=OrderPublic)
def cancel_order(
    order_id: UUID, body: ReasonIn, command: CommandDep, response: Response
) -> OrderPublic:
    """Cancels every live item at once (renter or admin); each paid item is refunded per
    its own cancellation policy. An owner cancels only their item, via its booking."""
    with command.context():
        position = command.container.order_payments.cancel(
            command.actor, order_id, body.reason, command.now
        )
    return _respond(command, response, order_id, position)


@router.get("/orders/{order_id}", response_model=OrderPublic)
def get_order(order_id: UUID, command: CommandDep, response: Response) -> OrderPublic:
    """An order, for its renter and admins; an item's owner sees the order with only their
    own items; 404 for anyone else."""
    orders = command.container.orders
    order = orders.get(order_id, viewer=command.actor)
    set_etag(response, order.version)
    return OrderPublic.of(orders.describe(order, command.actor))


@router.get(
    "/me/orders",
    response_model=Page[dict[str, Any]],
    dependencies=[Depends(min_position("orders"))],
)
def my_orders(
    command: CommandDep,
    page: PageParamsDep,
    status_filter: str | None = Query(None, alias="status", max_length=40, pattern=r"^[a-z_]*$"),
) -> Page[dict[str, Any]]:
    """The caller's orders as renter, newest first, with their derived status."""
    container = command.container
    with container.views.connect() as conn:
        rows, next_cursor = list_orders(
            conn,
            container.runner.tables("orders"),
            command.actor.id,
            status_filter,
            page.limit,
            page.cursor,
        )
    return Page[dict[str, Any]](data=rows, next_cursor=next_cursor)
