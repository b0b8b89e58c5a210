"""Sign up, sign in, sign out and email verification pages, on the identity use cases.

Sign-in sets the API's own HttpOnly session cookie, so the browser and the API share one
session. The forms share the API's rate-limit buckets (and its test overrides)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from application.context import command_context
from domain.errors import DomainError
from domain.user import AccountLockedError
from interfaces.web.routing import PageRoute
from interfaces.web.session import SESSION_COOKIE, FormDep, Visitor, VisitorDep
from interfaces.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

LOGIN_LIMIT = ("auth.login", 10, 60)  # the API's buckets: one budget per client
REGISTER_LIMIT = ("auth.register", 5, 60)
VERIFY_LIMIT = ("auth.verify_email", 10, 60)


def _allowed(request: Request, visitor: Visitor, bucket: tuple[str, int, int]) -> bool:
    name, limit, window = bucket
    overrides: dict[str, Any] = getattr(request.app.state, "rate_limits", None) or {}
    chosen = overrides.get(name, overrides.get("*", (limit, window)))
    if chosen is None:
        return True
    who = f"user:{visitor.principal.user_id}" if visitor.principal else f"ip:{_ip(request)}"
    return bool(visitor.container.rate_limiter.hit(f"rl:{name}:{who}", *chosen).allowed)


def _ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _safe_next(target: str) -> str:
    """Only paths on this site: never an open redirect."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _start_session(visitor: Visitor, email: str, password: str, target: str) -> Response:
    container = visitor.container
    with command_context(None, request_id=visitor.request_id):
        session, _, _ = container.identity.login(email, password, at=visitor.now)
    assert session.token is not None
    response = RedirectResponse(_safe_next(target), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        max_age=container.settings.session_ttl_days * 86400,
        httponly=True,
        samesite="lax",
        secure=container.settings.environment != "development",
        path="/",
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, visitor: VisitorDep, next: str = "/") -> Response:
    if visitor.signed_in:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", {"values": {"next": next}, "errors": {}})


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, visitor: VisitorDep, form: FormDep) -> Response:
    values = {"email": form.get("email", ""), "next": form.get("next", "/")}
    errors: dict[str, str] = {}
    if not values["email"]:
        errors["email"] = "Enter your email."
    if not form.get("password"):
        errors["password"] = "Enter your password."
    if not errors and not _allowed(request, visitor, LOGIN_LIMIT):
        errors["email"] = "Too many attempts; wait a minute and try again."
    if not errors:
        try:
            return _start_session(visitor, values["email"], form["password"], values["next"])
        except AccountLockedError:
            errors["email"] = "Too many failed attempts: the account is locked for a while."
        except DomainError:
            errors["password"] = "Wrong email or password."
    return render(request, "login.html", {"values": values, "errors": errors}, status_code=422)


@router.get("/signup", response_class=HTMLResponse)
def signup_page(request: Request, visitor: VisitorDep) -> Response:
    return render(request, "signup.html", {"values": {}, "errors": {}})


@router.post("/signup", response_class=HTMLResponse)
def signup(request: Request, visitor: VisitorDep, form: FormDep) -> Response:
    values = {k: form.get(k, "") for k in ("name", "email", "phone")}
    password = form.get("password", "")
    errors: dict[str, str] = {}
    if not values["name"]:
        errors["name"] = "Enter your name."
    if "@" not in values["email"]:
        errors["email"] = "Enter a valid email address."
    if len(password) < 10:
        errors["password"] = "Use at least 10 characters."
    if not errors and not _allowed(request, visitor, REGISTER_LIMIT):
        errors["email"] = "Too many sign-ups from here; wait a minute and try again."
    if not errors:
        container = visitor.container
        try:
            with command_context(None, request_id=visitor.request_id):
                user_id, _ = container.identity.register(
                    values["email"], password, values["name"], values["phone"] or None,
                    at=visitor.now,
                )  # fmt: skip
                container.account_tokens.send_verification(user_id, at=visitor.now)
            return _start_session(visitor, values["email"], password, "/verify-email?sent=1")
        except DomainError as error:
            field = {"email_taken": "email", "weak_password": "password"}.get(error.code, "email")
            errors[field] = error.detail
    return render(request, "signup.html", {"values": values, "errors": errors}, status_code=422)


@router.get("/verify-email", response_class=HTMLResponse)
def verify_page(request: Request, visitor: VisitorDep, token: str = "", sent: str = "") -> Response:
    context = {"values": {"token": token[:2000]}, "errors": {}, "sent": bool(sent), "done": False}
    return render(request, "verify.html", context)


@router.post("/verify-email", response_class=HTMLResponse)
def verify(request: Request, visitor: VisitorDep, form: FormDep) -> Response:
    token = form.get("token", "")[:2000]
    errors: dict[str, str] = {}
    done = False
    if not token:
        errors["token"] = "Paste the token from the mail."
    elif not _allowed(request, visitor, VERIFY_LIMIT):
        errors["token"] = "Too many attempts; wait a minute and try again."
    else:
        try:
            with command_context(visitor.actor, request_id=visitor.request_id):
                visitor.container.account_tokens.verify_email(token, at=visitor.now)
            done = True
        except DomainError as error:
            errors["token"] = error.detail
    context = {"values": {"token": token}, "errors": errors, "sent": False, "done": done}
    return render(request, "verify.html", context, status_code=422 if errors else 200)


@router.post("/logout")
def logout(request: Request, visitor: VisitorDep, form: FormDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        visitor.container.identity.logout(token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
