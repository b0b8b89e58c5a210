"""Admin endpoints over the double-entry ledger: balances, entries, verification."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from application.ledger import LedgerProcess, verify_process
from infrastructure.ledger_rows import event_rows
from interfaces.http.deps import AdminDep, ContainerDep
from interfaces.http.pagination import PageParamsDep, decode_cursor, page_of
from interfaces.http.positions import min_position
from interfaces.http.problems import ProblemError
from interfaces.http.schemas_common import Page, problem_responses
from projections import ledger as views

router = APIRouter(
    prefix="/admin/ledger", tags=["admin"], responses=problem_responses(401, 403, 422)
)

_ACCOUNT = r"^[a-z_]+(:[A-Za-z0-9_\-]+)*$"
_PREFIX = r"^[a-z_:A-Za-z0-9\-]*$"


class AccountBalancePublic(BaseModel):
    account: str = Field(examples=["liabilities:owner_payable:7d3c…"])
    currency: str
    owner_id: UUID | None
    debits: int
    credits: int
    balance: int = Field(description="Debits minus credits, in minor units.")
    entries: int = Field(description="How many postings made this balance.")


class PostingPublic(BaseModel):
    account: str
    side: str = Field(examples=["debit", "credit"])
    amount: int
    currency: str


class JournalEntryPublic(BaseModel):
    id: UUID
    position: int
    source_id: UUID = Field(description="The payment whose event made this entry.")
    source_version: int
    source_type: str = Field(examples=["Payment.ChargeCaptured"])
    booking_id: UUID
    currency: str
    postings: list[PostingPublic]
    at: str


class LedgerVerificationPublic(BaseModel):
    balanced: bool = Field(description="Every entry balances per currency; totals are equal.")
    entries: int = Field(description="Journal entries recorded.")
    total_debits: dict[str, int] = Field(description="Per currency, in minor units.")
    total_credits: dict[str, int]
    derived_matches_recorded: bool
    recorded_hash: str
    derived_hash: str
    derived_entries: int = Field(description="Entries regenerated from payment events.")
    missing: list[UUID] = Field(description="Some regenerated entries not so recorded.")
    unexpected: list[UUID] = Field(description="Some recorded entries no payment event makes.")
    position: int = Field(description="The event-store position verified up to.")
    ledger_position: int = Field(description="Where the ledger process has got in the log.")
    log_position: int = Field(description="The event store's head when verified.")
    lag: int = Field(description="Events the ledger has still to read (not a mismatch).")


@router.get("/accounts", dependencies=[Depends(min_position("ledger"))])
def ledger_accounts(
    _: AdminDep,
    container: ContainerDep,
    page: PageParamsDep,
    owner_id: UUID | None = None,
    currency: Annotated[str | None, Query(pattern=r"^[A-Za-z]{3}$")] = None,
    prefix: Annotated[
        str | None, Query(max_length=200, pattern=_PREFIX, examples=["liabilities:"])
    ] = None,
) -> Page[AccountBalancePublic]:
    """Balances (debits minus credits, minor units) per account and currency, ordered by
    account: for one owner's accounts, one currency, or accounts starting with `prefix`."""
    after = decode_cursor(page.cursor)
    key = (after.get("a"), after.get("c")) if after else None
    if key is not None and not all(isinstance(k, str) for k in key):
        raise ProblemError(422, "invalid_cursor", "the cursor is not one this API issued")
    with container.views.connect() as conn:
        rows = views.account_balances(
            conn,
            container.runner.tables("ledger"),
            owner_id=owner_id,
            currency=currency,
            prefix=prefix,
            limit=page.limit + 1,
            after=key,  # type: ignore[arg-type]
        )
    return page_of(
        rows,
        page.limit,
        lambda r: {"a": r["account"], "c": r["currency"]},
        lambda r: AccountBalancePublic(**r),
    )


@router.get("/entries", dependencies=[Depends(min_position("ledger"))])
def ledger_entries(
    _: AdminDep,
    container: ContainerDep,
    page: PageParamsDep,
    booking_id: UUID | None = None,
    account: Annotated[str | None, Query(max_length=200, pattern=_ACCOUNT)] = None,
) -> Page[JournalEntryPublic]:
    """Journal entries in the order they were recorded, for one booking and/or touching one
    account (e.g. `assets:processor_balance`)."""
    with container.views.connect() as conn:
        rows, next_cursor = views.entries(
            conn,
            container.runner.tables("ledger"),
            booking_id=booking_id,
            account=account,
            limit=page.limit,
            cursor=page.cursor,
        )
    return Page[JournalEntryPublic](
        data=[JournalEntryPublic(**r) for r in rows], next_cursor=next_cursor
    )


@router.get("/verify")
def ledger_verify(_: AdminDep, container: ContainerDep) -> LedgerVerificationPublic:
    """Regenerates the ledger in memory from the payment events in the log and compares it
    with the recorded journal entries (a hash of their sorted postings) up to the ledger's
    own position; also checks every recorded entry balances per currency. A ledger that is
    merely behind the log is not a mismatch: `lag` says by how many events. Entries due and
    absent show up in `missing`, entries no payment event makes in `unexpected`."""
    process = container.ledger or LedgerProcess(container.store)
    result: dict[str, Any] = verify_process(process, rows=event_rows(process.store)).as_dict()
    return LedgerVerificationPublic(**result)
