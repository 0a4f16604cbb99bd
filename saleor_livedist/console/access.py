"""Who may use the console: the staff member a request is from, and the Saleor permission each page and
action needs. How a request is turned into a Staff is the caller's (a StaffAuthenticator): the sandbox's
Django session here; inside Saleor, the token the Dashboard gives the app's pages."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ..i18n import DEFAULT_LANGUAGE, package_language, request_language
from ..identity import of_user

# Saleor's permission codes.
MANAGE_ORDERS = "MANAGE_ORDERS"  # viewing the console at all
MANAGE_USERS = "MANAGE_USERS"  # banning and unbanning distributors
MANAGE_PRODUCTS = "MANAGE_PRODUCTS"  # lives, their featured products, replays, clips, tasks and questions
MANAGE_DISCOUNTS = "MANAGE_DISCOUNTS"  # live coupons
VIEW = MANAGE_ORDERS
ALL_PERMISSIONS = frozenset({MANAGE_ORDERS, MANAGE_USERS, MANAGE_PRODUCTS, MANAGE_DISCOUNTS})

PERMISSION_NAMES = {
    MANAGE_ORDERS: _("Manage orders"),
    MANAGE_USERS: _("Manage customers"),
    MANAGE_PRODUCTS: _("Manage products"),
    MANAGE_DISCOUNTS: _("Manage discounts"),
}

@dataclass(frozen=True)
class Staff:
    id: str
    email: str
    name: str
    language: str
    permissions: frozenset[str]


StaffAuthenticator = Callable[[HttpRequest], "Staff | None"]


def console_language(code: str | None) -> str:
    """The package's language for a staff member's (zh-hans for Simplified Chinese, en for English and any
    language the package does not speak)."""
    return package_language(code) or DEFAULT_LANGUAGE


def refuse_everyone(request: HttpRequest) -> Staff | None:
    """Nobody is signed in: for where no way of signing staff in is configured, so nothing is open by accident."""
    return None


# The sandbox's Django permissions that stand for Saleor's (a superuser has them all).
SANDBOX_PERMISSIONS = {
    MANAGE_ORDERS: "saleor_livedist.view_ledgerentry",
    MANAGE_USERS: "saleor_livedist.change_distributor",
    MANAGE_PRODUCTS: "saleor_livedist.change_livesession",
    MANAGE_DISCOUNTS: "saleor_livedist.change_livecoupon",
}


def sandbox_staff(request: HttpRequest) -> Staff | None:
    """The sandbox's signed-in Django user: staff get the Saleor permissions their Django permissions stand
    for (all of them for a superuser); a user who is not staff gets none (refused with 403, not 401)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if not user.is_staff:
        granted: frozenset[str] = frozenset()
    elif user.is_superuser:
        granted = ALL_PERMISSIONS
    else:
        granted = frozenset(code for code, perm in SANDBOX_PERMISSIONS.items() if user.has_perm(perm))
    name = (user.get_full_name() or "").strip() or user.get_username()
    return Staff(id=of_user(user), email=user.email or "", name=name,
                 language=request_language(request), permissions=granted)
