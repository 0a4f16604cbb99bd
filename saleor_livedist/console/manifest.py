"""The Saleor App manifest that mounts the console in Saleor's Dashboard.

`build_manifest(base_url)`: base_url is the absolute URL of the plugin's endpoint, e.g.
`https://shop.example.com/plugins/global/saleor_livedist/`. The console's home is an APP_PAGE in the Dashboard's
navigation; an order's, a customer's and a product's "more actions" open a popup on the console's page for it
(through `app/open/<kind>`, which turns the Dashboard's context, `orderId` etc., into the console's URL).
"""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

APP_ID = "saleor-livedist"
PERMISSIONS = ["MANAGE_ORDERS", "MANAGE_USERS", "MANAGE_PRODUCTS", "MANAGE_DISCOUNTS"]
NAVIGATION_MOUNT = "NAVIGATION_ORDERS"  # the Dashboard has no mount of its own for an app: orders fit best


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("saleor-livedist")
    except PackageNotFoundError:
        return "0.0.0"


def build_manifest(base_url: str, webhooks: list[dict[str, Any]] | None = None,
                   console: bool = True, permissions: list[str] | None = None) -> dict[str, Any]:
    """The manifest for a plugin served at base_url (ending in /). The plugin hears Saleor's events through its
    hooks and asks for no webhooks; App mode passes its own (app_server/subscriptions.py). console=False: no
    console pages are served: no extensions, and appUrl is the app's home (App mode serves the console too). permissions: what the
    app asks for instead of PERMISSIONS (App mode makes gift cards through Saleor's API too)."""
    base = base_url if base_url.endswith("/") else base_url + "/"
    app_url = base + "console" if console else base  # the Dashboard joins an APP_PAGE's relative url to appUrl
    manifest = {
        "id": APP_ID,
        "name": "Live + distribution",  # the app's name in Saleor, kept whatever the language
        "version": _version(),
        "about": _("Live + distribution selling: distributors, commissions, lives and the data loop."),
        "permissions": permissions or PERMISSIONS,
        "appUrl": app_url,
        "tokenTargetUrl": base + "app/register",
        "author": "saleor-livedist",
        "extensions": [
            {"identifier": "livedist-console", "label": _("Live + distribution"), "mount": NAVIGATION_MOUNT,
             "target": "APP_PAGE", "url": "/", "permissions": ["MANAGE_ORDERS"]},
            _popup("livedist-order", _("Attribution and commissions"), "ORDER_DETAILS_MORE_ACTIONS",
                   base + "app/open/orders", ["MANAGE_ORDERS"]),
            _popup("livedist-customer", _("Distribution: binding and commissions"), "CUSTOMER_DETAILS_MORE_ACTIONS",
                   base + "app/open/customers", ["MANAGE_ORDERS", "MANAGE_USERS"]),
            _popup("livedist-product", _("Distribution figures"), "PRODUCT_DETAILS_MORE_ACTIONS",
                   base + "app/open/products", ["MANAGE_ORDERS"]),
        ],
        "webhooks": webhooks or [],
    }
    if not console:
        manifest["extensions"] = []
    return manifest


def _popup(identifier: str, label: str, mount: str, url: str, permissions: list[str]) -> dict[str, Any]:
    return {"identifier": identifier, "label": label, "mount": mount, "target": "POPUP", "url": url,
            "permissions": permissions}
