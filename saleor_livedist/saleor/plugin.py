"""The Saleor plugin: glue only. Each hook hands the event off (a Celery message, or inline without a
broker) and returns previous_value; it never raises, because an exception here would turn the shopper's
checkoutComplete into an error although the order is already committed."""
from __future__ import annotations

import logging
from functools import wraps
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils import timezone
from saleor.plugins.base_plugin import BasePlugin, ConfigurationTypeField

from .. import conf

logger = logging.getLogger(__name__)

PLUGIN_ID = "saleor_livedist"
CONFIG_FIELDS = {  # dashboard field -> LIVEDIST setting
    "rules_dir": "RULES_DIR",
    "engine": "ENGINE",
    "storefront_url": "STOREFRONT_URL",
    "center_frame_ancestors": "CENTER_FRAME_ANCESTORS",
}


def never_raises(hook: Any) -> Any:
    @wraps(hook)
    def safe(self: Any, *args: Any, **kwargs: Any) -> Any:
        previous_value = kwargs.get("previous_value", args[-1] if args else None)
        if not self.active:
            return previous_value
        try:
            hook(self, *args, **kwargs)
        except Exception:  # logged with the traceback; the shopper's request goes on
            logger.exception("saleor-livedist: %s failed; the event was not handed off", hook.__name__)
        return previous_value

    return safe


def _hand_off(task: Any, args: tuple[Any, ...]) -> None:
    """Publish the task (one short try, never Celery's publish retries), or, with the broker down, run it here:
    the event is then kept in the inbox, and processed by the periodic sweep once the broker is back."""
    from ..inbox.broker import broker_configured, publish

    if not broker_configured() or not publish(task, args):
        task.apply(args=args)


def _hand_off_order(kind: str, order: Any) -> None:
    from .tasks import order_event

    _hand_off(order_event, (kind, str(order.pk), timezone.now().isoformat()))


class LiveDistPlugin(BasePlugin):
    PLUGIN_ID = PLUGIN_ID
    PLUGIN_NAME = "Live + distribution"
    PLUGIN_DESCRIPTION = (
        "Distributor share links, bindings and commissions by rule files, with live-session rates and bonuses."
    )
    CONFIGURATION_PER_CHANNEL = False
    DEFAULT_ACTIVE = False
    DEFAULT_CONFIGURATION = [
        {"name": "rules_dir", "value": ""},
        {"name": "engine", "value": ""},
        {"name": "storefront_url", "value": conf.DEFAULTS["STOREFRONT_URL"]},
        {"name": "center_frame_ancestors", "value": ""},
    ]
    CONFIG_STRUCTURE = {
        "rules_dir": {
            "type": ConfigurationTypeField.STRING,
            "label": "Rules directory",
            "help_text": "Directory of the rule files (YAML). Empty: the bundled default rules.",
        },
        "engine": {
            "type": ConfigurationTypeField.STRING,
            "label": "Rule engine",
            "help_text": "durable or python. Empty: durable-rules where it imports.",
        },
        "storefront_url": {
            "type": ConfigurationTypeField.STRING,
            "label": "Storefront URL template",
            "help_text": "Where a share link lands; {kind}, {target} and {token} are filled in. The storefront "
                         "keeps {token} in checkout metadata under livedist_ref.",
        },
        "center_frame_ancestors": {
            "type": ConfigurationTypeField.STRING,
            "label": "Storefronts that embed the distributor's center",
            "help_text": "Origins, comma-separated (https://shop.example.com), whose pages may show the center in a "
                         "frame. Empty: none but the plugin's own pages.",
        },
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        values = {item["name"]: item["value"] for item in self.configuration}
        try:
            conf.set_overrides({CONFIG_FIELDS[k]: v for k, v in values.items() if k in CONFIG_FIELDS})
        except conf.ImproperlyConfigured:
            logger.exception("saleor-livedist: invalid plugin configuration")

    @classmethod
    def validate_plugin_configuration(cls, plugin_configuration: Any, **kwargs: Any) -> None:
        """Every problem at once, each on its field with a code."""
        from ..rules.backends import durable_available
        from ..rules.loader import check_rules, default_rules_dir

        values = {item["name"]: item["value"] for item in plugin_configuration.configuration}
        errors: dict[str, ValidationError] = {}
        rules_dir = values.get("rules_dir") or ""
        problems = check_rules(rules_dir or default_rules_dir())
        if problems:
            listing = "\n".join(str(p) for p in problems[:20])
            errors["rules_dir"] = ValidationError(
                f"{len(problems)} problem(s) in the rule files:\n{listing}", code="invalid")
        engine = values.get("engine") or ""
        if engine not in ("", "durable", "python"):
            errors["engine"] = ValidationError("choose durable or python (or leave empty)", code="invalid")
        elif engine == "durable" and not durable_available():
            errors["engine"] = ValidationError("durable-rules cannot be imported here; choose python",
                                               code="unavailable")
        url = values.get("storefront_url") or ""
        if url and "{token}" not in url:
            errors["storefront_url"] = ValidationError("the template must contain {token}", code="invalid")
        try:
            conf.parse_origins(values.get("center_frame_ancestors") or "", "CENTER_FRAME_ANCESTORS")
        except conf.ImproperlyConfigured as exc:
            errors["center_frame_ancestors"] = ValidationError(str(exc), code="invalid")
        if errors:
            raise ValidationError(errors)

    # ------------------------------------------------------------------ hooks (hand off, return)

    @never_raises
    def order_created(self, order: Any, previous_value: Any, webhooks: Any = None) -> Any:
        _hand_off_order("created", order)

    @never_raises
    def order_paid(self, order: Any, previous_value: Any, webhooks: Any = None) -> Any:
        _hand_off_order("paid", order)

    @never_raises
    def order_fully_paid(self, order: Any, previous_value: Any, webhooks: Any = None) -> Any:
        _hand_off_order("paid", order)

    @never_raises
    def order_fulfilled(self, order: Any, previous_value: Any, webhooks: Any = None) -> Any:
        _hand_off_order("fulfilled", order)

    @never_raises
    def order_cancelled(self, order: Any, previous_value: Any, webhooks: Any = None) -> Any:
        _hand_off_order("cancelled", order)

    @never_raises
    def order_refunded(self, order: Any, previous_value: Any, webhooks: Any = None) -> Any:
        _hand_off_order("refunded", order)

    @never_raises
    def order_fully_refunded(self, order: Any, previous_value: Any, webhooks: Any = None) -> Any:
        _hand_off_order("fully_refunded", order)

    @never_raises
    def customer_created(self, customer: Any, previous_value: Any) -> Any:
        from .tasks import customer_event

        _hand_off(customer_event, (customer.pk,))

    # ------------------------------------------------------------------ checkout

    def preprocess_order_creation(self, checkout_info: Any, lines: Any, previous_value: Any) -> Any:
        """A live coupon's code outside its live's air time stops checkoutComplete with the reason. Saleor
        checks the voucher's dates itself, except on a retry after a failed payment (it counted the voucher
        then and does not look again), and its own message would only say the voucher is not applicable."""
        if not self.active:
            return previous_value
        code = getattr(getattr(checkout_info, "checkout", None), "voucher_code", None)
        if not code:
            return previous_value
        try:
            from ..live_room.coupons import check_code

            result = check_code(code)
            refused = result.coupon is not None and not result.valid
        except Exception:  # our own failure must not stop a sale Saleor would make
            logger.exception("saleor-livedist: could not check live coupon %s; left to Saleor", code)
            return previous_value
        if refused:
            raise ValidationError({"promo_code": ValidationError(result.message, code="voucher_not_applicable")})
        return previous_value

    # ------------------------------------------------------------------ HTTP

    def webhook(self, request: Any, path: str, previous_value: Any) -> HttpResponse:
        from ..web.endpoints import handle
        from .app_tokens import app_host
        from .auth import saleor_authenticate

        if not self.active:
            return previous_value
        try:
            # The console's pages sign staff in with the Dashboard's token (console/app.py).
            return handle(request, path.lstrip("/"), saleor_authenticate, app=app_host())
        except Exception:
            logger.exception("saleor-livedist: endpoint %s failed", path)
            return HttpResponse('{"errors": [{"message": "internal error"}]}', status=500,
                                content_type="application/json")
