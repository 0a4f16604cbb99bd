"""What saleor-livedist relies on in Saleor, checked against a real Saleor through its public API: the entry
point, the hooks checkoutComplete / payment / refund / accountRegister fire, the metadata that carries a
share token, the plugin's endpoints with Saleor's JWTs, and that a failing hook never breaks a checkout.

Saleor is imported inside the tests only: without it (this project's own test run) they are skipped."""
from __future__ import annotations

import importlib
import importlib.metadata
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from saleor_livedist.identity import of_user
from saleor_livedist.distribution.links import VISITOR_COOKIE
from saleor_livedist.models import Binding, InboxEvent, LedgerEntry

from .conftest import PLUGIN_PATH

PLUGIN_URL = "/plugins/global/saleor_livedist"
DIRECT_RATE = Decimal(5)  # rules/commission.yaml, rate `direct`

UPDATE_METADATA = """
mutation UpdateMetadata($id: ID!, $input: [MetadataInput!]!) {
  updateMetadata(id: $id, input: $input) { errors { field code message } }
}
"""
CHECKOUT_COMPLETE = """
mutation CheckoutComplete($id: ID) {
  checkoutComplete(id: $id) { order { id token } errors { field code message } }
}
"""
REFUND_PRODUCTS = """
mutation RefundProducts($order: ID!, $input: OrderRefundProductsInput!) {
  orderFulfillmentRefundProducts(order: $order, input: $input) {
    fulfillment { id status }
    errors { field code message }
  }
}
"""
ACCOUNT_REGISTER = """
mutation AccountRegister($input: AccountRegisterInput!) {
  accountRegister(input: $input) { errors { field code message } }
}
"""


# ---------------------------------------------------------------------- helpers


def graphql_data(response: Any, mutation: str) -> dict[str, Any]:
    """The mutation's payload; fails on HTTP, GraphQL or mutation errors."""
    assert response.status_code == 200, response.content
    content = response.json()
    assert "errors" not in content, content["errors"]
    data = content["data"][mutation]
    assert data["errors"] == [], data["errors"]
    return data


def gid(type_name: str, pk: Any) -> str:
    import graphene

    return graphene.Node.to_global_id(type_name, pk)


def commission(amount: Decimal, currency: str = "USD") -> Decimal:
    """The default direct rate on a net amount, rounded half up to the cent (docs/rules.md)."""
    net = amount.quantize(Decimal("0.01"))
    return (net * DIRECT_RATE / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def pay_with_dummy_gateway(checkout: Any) -> None:
    """A dummy-gateway payment for the checkout's total, captured at checkoutComplete (as Saleor's tests do)."""
    from saleor.checkout import calculations
    from saleor.checkout.fetch import fetch_checkout_info, fetch_checkout_lines
    from saleor.payment.models import Payment
    from saleor.plugins.manager import get_plugins_manager

    manager = get_plugins_manager(allow_replica=False)
    lines, _ = fetch_checkout_lines(checkout)
    info = fetch_checkout_info(checkout, lines, manager)
    total = calculations.calculate_checkout_total(manager=manager, checkout_info=info, lines=lines)
    Payment.objects.create(gateway="mirumee.payments.dummy", checkout=checkout, is_active=True,
                           total=total.gross.amount, currency=total.gross.currency, billing_email=checkout.email)


def place_order(api_client: Any, checkout: Any, metadata: dict[str, str] | None = None) -> Any:
    """What a storefront does: keep our keys in the checkout's public metadata, pay, complete."""
    from saleor.order.models import Order

    if metadata:
        graphql_data(api_client.post_graphql(UPDATE_METADATA, {
            "id": gid("Checkout", checkout.pk),
            "input": [{"key": k, "value": v} for k, v in metadata.items()],
        }), "updateMetadata")
    pay_with_dummy_gateway(checkout)
    data = graphql_data(api_client.post_graphql(CHECKOUT_COMPLETE, {"id": gid("Checkout", checkout.pk)}),
                        "checkoutComplete")
    return Order.objects.get(pk=data["order"]["token"])


def handed_off(event_id: str) -> InboxEvent:
    """The inbox row a hook handed off (it exists only if the hook ran), already processed."""
    row = InboxEvent.objects.filter(event_id=event_id).first()
    assert row is not None, f"no {event_id} in the inbox: the hook did not hand the event off"
    assert row.status == InboxEvent.DONE, (row.status, row.error)
    return row


def ledger_for(order: Any, line: Any, beneficiary: str) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(order=str(order.pk), line=str(line.pk), beneficiary=beneficiary))


def kept(entries: list[LedgerEntry]) -> Decimal:
    return sum((e.amount for e in entries if e.status != "reversed"), Decimal(0))


# ---------------------------------------------------------------------- (a) discovery


def test_entry_point_puts_the_plugin_and_the_app_in_saleors_settings() -> None:
    from django.conf import settings

    points = importlib.metadata.entry_points(group="saleor.plugins")
    assert "saleor_livedist.saleor.plugin:LiveDistPlugin" in {p.value for p in points if p.name == "saleor_livedist"}
    # saleor.settings (which saleor.tests.settings imports) appends every entry point; the test settings then
    # reset PLUGINS, so the production list is read from the module itself.
    assert PLUGIN_PATH in importlib.import_module("saleor.settings").PLUGINS
    assert "saleor_livedist" in settings.INSTALLED_APPS
    assert LedgerEntry.objects.count() >= 0  # our migrations ran on Saleor's database


def test_plugin_is_inactive_until_the_merchant_activates_it(settings: Any, db: None) -> None:
    from saleor.plugins.manager import get_plugins_manager

    settings.PLUGINS = [PLUGIN_PATH]
    plugin = get_plugins_manager(allow_replica=False).get_plugin("saleor_livedist")
    assert plugin is not None and plugin.active is False


def test_active_plugin_is_loaded_with_its_default_configuration(livedist: Any) -> None:
    from saleor.plugins.manager import get_plugins_manager

    plugin = get_plugins_manager(allow_replica=False).get_plugin("saleor_livedist")
    assert isinstance(plugin, livedist) and plugin.active
    assert {item["name"] for item in plugin.configuration} == {"rules_dir", "engine", "storefront_url",
                                                                "center_frame_ancestors"}


def test_saleors_workers_and_beat_know_our_tasks_and_run_them_under_its_writer_guard(livedist: Any) -> None:
    from django.utils import timezone
    from saleor.celeryconf import app

    from saleor_livedist.inbox import processing
    from saleor_livedist.models import Distributor

    app.loader.import_default_modules()  # what a worker does at start: Saleor's autodiscovery of apps and plugins
    ours = {"saleor_livedist.process_events", "saleor_livedist.settle", "saleor_livedist.send_live_reminders",
            "saleor_livedist.saleor_order_event", "saleor_livedist.saleor_customer_event"}
    assert ours <= set(app.tasks)
    guard = getattr(importlib.import_module("saleor.core.tasks"), "RestrictWriterDBTask", None)  # 3.21+
    assert guard is None or all(isinstance(app.tasks[name], guard) for name in ours)
    beat = {entry["task"] for entry in app.conf.beat_schedule.values()}  # what Saleor's beat scheduler installs
    periodic = {"saleor_livedist.process_events", "saleor_livedist.settle", "saleor_livedist.refresh_reports",
                "saleor_livedist.pay_pools"}
    assert periodic <= beat and periodic <= set(app.tasks)
    from saleor_livedist.inbox.tasks import BEAT_SCHEDULE

    declared = {entry["task"] for entry in BEAT_SCHEDULE.values()}
    assert declared <= beat and declared <= set(app.tasks)  # every periodic task is scheduled and has a worker
    assert "delete-expired-checkouts" in app.conf.beat_schedule  # Saleor's own entries are kept

    processing.submit({"id": "contract:join", "type": "distributor.joined", "at": timezone.now().isoformat(),
                       "customer": "user:424242"}, process=False)
    for name in ("saleor_livedist.process_events", "saleor_livedist.settle"):  # the beat schedule's two tasks
        result = app.tasks[name].apply()
        assert result.successful(), result.traceback
    assert Distributor.objects.filter(id="user:424242").exists()


# ---------------------------------------------------------------------- (b) checkout -> pending commission


def test_share_token_in_checkout_metadata_pays_the_distributor_when_the_order_is_paid(
        livedist: Any, api_client: Any, checkout_ready_to_complete: Any, distributor: str, share_token: str) -> None:
    order = place_order(api_client, checkout_ready_to_complete, {"livedist_ref": share_token})

    assert order.metadata["livedist_ref"] == share_token  # Saleor copied the checkout's metadata
    assert order.user_id is None  # an anonymous shopper: identity guest:<email>
    handed_off(f"saleor:order:{order.pk}:created")
    handed_off(f"saleor:order:{order.pk}:paid")
    line = order.lines.get()
    [entry] = ledger_for(order, line, distributor)
    assert (entry.kind, entry.level, entry.status) == ("commission", 1, "pending")
    assert entry.amount == commission(line.total_price_net_amount) > 0
    assert Binding.objects.get(identity=f"guest:{order.user_email.lower()}").distributor == distributor


def test_order_without_share_token_pays_nobody(
        livedist: Any, api_client: Any, checkout_ready_to_complete: Any, distributor: str) -> None:
    order = place_order(api_client, checkout_ready_to_complete)

    handed_off(f"saleor:order:{order.pk}:paid")
    assert not LedgerEntry.objects.filter(order=str(order.pk)).exists()


# ---------------------------------------------------------------------- (c) partial refund


def test_partial_refund_brings_the_commission_to_what_the_customer_kept(
        livedist: Any, api_client: Any, staff_api_client: Any, permission_group_manage_orders: Any,
        checkout_ready_to_complete: Any, distributor: str, share_token: str) -> None:
    from saleor.order.models import Fulfillment

    order = place_order(api_client, checkout_ready_to_complete, {"livedist_ref": share_token})
    line = order.lines.get()
    assert line.quantity == 3
    permission_group_manage_orders.user_set.add(staff_api_client.user)

    graphql_data(staff_api_client.post_graphql(REFUND_PRODUCTS, {
        "order": gid("Order", order.pk),
        "input": {"orderLines": [{"orderLineId": gid("OrderLine", line.pk), "quantity": 1}]},
    }), "orderFulfillmentRefundProducts")

    refund = Fulfillment.objects.get(order=order, status="refunded")
    handed_off(f"saleor:refund:{refund.pk}")
    refunded = (line.total_price_net_amount / 3).quantize(Decimal("0.01"))
    entries = ledger_for(order, line, distributor)
    assert kept(entries) == commission(line.total_price_net_amount.quantize(Decimal("0.01")) - refunded)
    assert {e.kind for e in entries} == {"commission", "adjustment"}
    assert {e.status for e in entries} == {"pending"}


# ---------------------------------------------------------------------- (d) accountRegister


def register(api_client: Any, channel: Any, email: str, metadata: dict[str, str]) -> Any:
    from saleor.account.models import User

    graphql_data(api_client.post_graphql(ACCOUNT_REGISTER, {"input": {
        "email": email, "password": "Sh0pper-pass-1", "redirectUrl": "https://www.example.com/confirm",
        "channel": channel.slug, "metadata": [{"key": k, "value": v} for k, v in metadata.items()],
    }}), "accountRegister")
    return User.objects.get(email=email)


def test_account_register_with_share_token_binds_the_new_customer(
        livedist: Any, api_client: Any, channel_USD: Any, distributor: str, share_token: str) -> None:
    user = register(api_client, channel_USD, "shopper@example.com", {"livedist_ref": share_token})

    handed_off(f"saleor:customer:{user.pk}:registered")
    assert Binding.objects.get(identity=of_user(user)).distributor == distributor


def test_clicked_visitor_who_registers_keeps_the_binding(
        livedist: Any, client: Any, api_client: Any, channel_USD: Any, distributor: str, share_token: str) -> None:
    click = client.get(f"{PLUGIN_URL}/click/{share_token}")
    assert click.status_code == 302, click.content
    signed_visitor = click.cookies[VISITOR_COOKIE].value

    user = register(api_client, channel_USD, "visitor@example.com", {"livedist_visitor": signed_visitor})

    handed_off(f"saleor:customer:{user.pk}:registered")
    assert Binding.objects.get(identity=of_user(user)).distributor == distributor



def test_share_links_point_only_at_products_in_saleors_catalogue(livedist: Any, distributor: str,
                                                                 product: Any) -> None:
    from saleor_livedist.distribution.services import ServiceError, create_share_link

    assert create_share_link(distributor, "product", product.slug).target == product.slug
    with pytest.raises(ServiceError, match="no product") as refused:
        create_share_link(distributor, "product", product.slug + "-not-in-the-catalogue")
    assert refused.value.code == "NOT_FOUND"

def test_customer_bound_at_registration_pays_the_distributor_on_a_later_order(
        livedist: Any, api_client: Any, channel_USD: Any, checkout_ready_to_complete: Any, distributor: str,
        share_token: str) -> None:
    from saleor.graphql.tests.fixtures import ApiClient

    user = register(api_client, channel_USD, "returning@example.com", {"livedist_ref": share_token})
    checkout = checkout_ready_to_complete
    checkout.user, checkout.email = user, user.email
    checkout.save(update_fields=["user", "email"])

    order = place_order(ApiClient(user=user), checkout)  # no token in this checkout: the binding decides

    [entry] = ledger_for(order, order.lines.get(), distributor)
    assert entry.status == "pending" and entry.amount == commission(order.lines.get().total_price_net_amount)


# ---------------------------------------------------------------------- (e) a failing hook


@pytest.mark.parametrize("target, logged", [
    # inside the Celery task: Celery logs it (celery.app.trace), the hook sees a failed result, not an exception
    ("saleor_livedist.inbox.processing.submit", None),
    ("saleor_livedist.saleor.mapping.order_created", None),
    # in the hook itself (broker down and the inline fallback failing too): the plugin logs it
    ("saleor_livedist.saleor.plugin._hand_off_order", "saleor-livedist: order_created failed"),
])
def test_a_failing_hook_does_not_break_checkout_complete(
        livedist: Any, api_client: Any, checkout_ready_to_complete: Any, share_token: str, monkeypatch: Any,
        caplog: Any, target: str, logged: str | None) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(target, broken)

    order = place_order(api_client, checkout_ready_to_complete, {"livedist_ref": share_token})

    assert order.pk is not None and order.lines.exists()  # the shopper got the order, with no error
    assert not InboxEvent.objects.filter(event_id=f"saleor:order:{order.pk}:created").exists()
    if logged:
        assert logged in caplog.text and "simulated failure" in caplog.text


# ---------------------------------------------------------------------- endpoints, Saleor's JWT


def test_plugin_api_authenticates_with_saleors_access_token(livedist: Any, client: Any, customer_user: Any) -> None:
    from saleor.core.jwt import create_access_token

    def call(query: str, token: str | None) -> Any:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        response = client.post(f"{PLUGIN_URL}/graphql/", {"query": query}, content_type="application/json",
                               **headers)
        assert response.status_code == 200, response.content
        return response.json()

    become = "mutation { becomeDistributor(consent: true) { distributor { id } errors { code } } }"
    anonymous = call(become, None)["data"]["becomeDistributor"]
    assert anonymous["errors"] == [{"code": "UNAUTHENTICATED"}]
    assert call(become, "not-a-jwt")["data"]["becomeDistributor"]["errors"] == [{"code": "UNAUTHENTICATED"}]

    joined = call(become, create_access_token(customer_user))["data"]["becomeDistributor"]
    assert joined == {"distributor": {"id": of_user(customer_user)}, "errors": []}


# ---------------------------------------------------------------------- (f) the live room's pages


def test_the_leaderboard_widget_and_query_are_served_inside_saleor(livedist: Any, client: Any, distributor: str) -> None:
    from django.utils import timezone

    from saleor_livedist.live_room import lifecycle, lives
    from saleor_livedist.inbox import processing

    lives.schedule_live("live-w", "Widget live", timezone.now(), [])
    lifecycle.start_live("live-w")
    now = timezone.now().isoformat()
    processing.submit({"id": "w-click", "type": "link.clicked", "at": now, "distributor": distributor,
                       "visitor": "visitor:" + "a" * 24, "target": {"live": "live-w"}}, process=False)
    processing.process_pending()  # what Saleor's worker does (the test's transaction never commits)
    page = client.get(f"{PLUGIN_URL}/widget/leaderboard/live-w")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert f'data-endpoint="{PLUGIN_URL}/graphql/"' in html and "Widget live" in html  # Saleor found our template
    query = '{ leaderboard(live: "live-w", by: "invited") { rank name invited } }'
    rows = client.post(f"{PLUGIN_URL}/graphql/", {"query": query}, content_type="application/json").json()
    assert rows["data"]["leaderboard"] == [{"rank": 1, "name": "d***@example.com", "invited": 1}]
    assert client.get(f"{PLUGIN_URL}/widget/leaderboard/nope").status_code == 404


def test_the_viewer_endpoint_is_served_inside_saleor_with_its_visitor_ids_and_saleors_jwt(
        livedist: Any, client: Any, customer_user: Any) -> None:
    import json

    from django.utils import timezone
    from saleor.core.jwt import create_access_token

    from saleor_livedist.live_room import lifecycle, lives
    from saleor_livedist.inbox import processing

    lives.schedule_live("live-v", "Viewer live", timezone.now(), [])
    lifecycle.start_live("live-v")
    processing.process_pending()  # Saleor's worker applies live.started (the test's transaction never commits)

    def post(action: str, **headers: str) -> Any:
        return client.post(f"{PLUGIN_URL}/viewer/", json.dumps({"live": "live-v", "action": action, "tab": "t1"}),
                           content_type="application/json", **headers)

    joined = post("join")  # anonymous: a visitor id of ours is issued, as a cookie and in the answer
    assert joined.status_code == 200, joined.content
    visitor = joined.json()["visitor"]
    assert joined.cookies[VISITOR_COOKIE].value == visitor
    client.cookies.clear()
    beat = post("heartbeat", HTTP_X_LIVEDIST_VISITOR=visitor)
    assert beat.status_code == 200 and beat.json()["ok"] is True
    forged = post("heartbeat", HTTP_X_LIVEDIST_VISITOR=visitor[:-2] + "xx")
    assert forged.status_code == 403 and forged.json()["errors"][0]["code"] == "FORBIDDEN_VISITOR"
    signed_in = post("join", HTTP_AUTHORIZATION=f"Bearer {create_access_token(customer_user)}")
    assert signed_in.status_code == 200
    viewers = {e.payload["viewer"] for e in InboxEvent.objects.filter(type="live.joined")}
    assert of_user(customer_user) in viewers and len(viewers) == 2  # the visitor, and the customer by Saleor's JWT
