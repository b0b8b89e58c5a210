"""Coupon endpoints: admins create platform- or owner-funded coupons, owners create their own
(owner-funded, for their listings); both list theirs with redemption counts and end them."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Response, status

from application.coupons import Coupons, summary
from interfaces.http.coupon_schemas import AdminCouponCreate, CouponCreate, CouponPublic
from interfaces.http.deps import AdminDep, CommandDep, ContainerDep, PrincipalDep, actor_of
from interfaces.http.etag import set_etag
from interfaces.http.pagination import PageParamsDep, offset_page
from interfaces.http.positions import min_position, set_position
from interfaces.http.schemas_common import Page, problem_responses
from projections.coupons import list_coupons

router = APIRouter(tags=["coupons"], responses=problem_responses(401, 403, 404, 409, 422))


def _coupons(command: CommandDep) -> Coupons:
    coupons = command.container.coupons
    assert coupons is not None, "the container wires coupons"
    return coupons


def _respond(
    command: CommandDep, response: Response, coupon_id: UUID, position: int
) -> CouponPublic:
    coupon = _coupons(command).get(coupon_id, viewer=command.actor)
    set_position(response, position)
    set_etag(response, coupon.version)
    return CouponPublic.of(summary(coupon))


@router.post("/admin/coupons", status_code=status.HTTP_201_CREATED, response_model=CouponPublic)
def create_platform_coupon(
    body: AdminCouponCreate, _admin: AdminDep, command: CommandDep, response: Response
) -> CouponPublic:
    """Creates a coupon. `funded_by: platform` (the default) pays the discount from the
    platform's take and pays the owner as without it; `owner` (with `owner_id`) lowers that
    owner's payout. Codes are case-insensitive and unique: 409 `coupon_code_taken`."""
    terms = body.terms(funded_by=body.funded_by, owner_id=body.owner_id)
    with command.context():
        coupon_id, position = _coupons(command).create(command.actor, body.code, terms, command.now)
    return _respond(command, response, coupon_id, position)


@router.post("/me/coupons", status_code=status.HTTP_201_CREATED, response_model=CouponPublic)
def create_owner_coupon(
    body: CouponCreate, command: CommandDep, response: Response
) -> CouponPublic:
    """An owner's coupon: funded by the owner (it lowers their payout) and valid on their own
    listings only; `scope: listing` names some of them (403 `not_owner` for others')."""
    terms = body.terms(funded_by="owner", owner_id=command.actor.id)
    with command.context():
        coupon_id, position = _coupons(command).create(command.actor, body.code, terms, command.now)
    return _respond(command, response, coupon_id, position)


@router.get(
    "/admin/coupons",
    response_model=Page[CouponPublic],
    dependencies=[Depends(min_position("coupons"))],
)
def admin_coupons(
    _admin: AdminDep, container: ContainerDep, page: PageParamsDep
) -> Page[CouponPublic]:
    """Every coupon, newest first, with its redemption counts."""
    with container.views.connect() as conn:
        rows = list_coupons(conn, container.runner.tables("coupons"))
    return offset_page([CouponPublic.of(r) for r in rows], page)


@router.get(
    "/me/coupons",
    response_model=Page[CouponPublic],
    dependencies=[Depends(min_position("coupons"))],
)
def my_coupons(
    principal: PrincipalDep, container: ContainerDep, page: PageParamsDep
) -> Page[CouponPublic]:
    """The coupons the signed-in owner created, newest first, with redemption counts."""
    with container.views.connect() as conn:
        rows = list_coupons(
            conn, container.runner.tables("coupons"), created_by=actor_of(principal).id
        )
    return offset_page([CouponPublic.of(r) for r in rows], page)


@router.post("/admin/coupons/{coupon_id}/deactivate", response_model=CouponPublic)
def deactivate_any_coupon(
    coupon_id: UUID, _admin: AdminDep, command: CommandDep, response: Response
) -> CouponPublic:
    """Ends a coupon: later quotes and bookings get 422 `coupon_inactive`; bookings that
    used it keep their discount."""
    with command.context():
        position = _coupons(command).deactivate(command.actor, coupon_id, command.now)
    return _respond(command, response, coupon_id, position)


@router.post("/me/coupons/{coupon_id}/deactivate", response_model=CouponPublic)
def deactivate_my_coupon(coupon_id: UUID, command: CommandDep, response: Response) -> CouponPublic:
    """Ends one of the owner's own coupons (404 for anyone else's)."""
    with command.context():
        _coupons(command).get(coupon_id, viewer=command.actor)
        position = _coupons(command).deactivate(command.actor, coupon_id, command.now)
    return _respond(command, response, coupon_id, position)
