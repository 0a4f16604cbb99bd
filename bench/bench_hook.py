"""What saleor-livedist's order hook adds to a Saleor request: milliseconds per order_created call.

Calls Saleor's PluginsManager.order_created (as checkoutComplete does after its commit) N times on real
orders in Saleor's database, with our plugin loaded from PLUGINS and switched on:

  hand-off  a real broker (Redis): the hook only publishes a Celery message; what a store with workers runs.
            Target: p99 <= 2 ms.
  inline    no broker (CELERY_TASK_ALWAYS_EAGER, Saleor's default without CELERY_BROKER_URL): the request
            itself maps the order and processes the event (attribution, pricing) on PostgreSQL.
  baseline  the same manager call with our plugin switched off: Saleor's own dispatch cost.
  broker-down  a broker is configured but down (a closed port): the hook tries to publish once, then maps and
            keeps the event in the request (its processing waits for the sweep). Target: far below a second.

Run it from Saleor's virtualenv with Saleor's environment, our package installed there and migrated:

    . /path/to/saleor-env.sh          # DATABASE_URL, SECRET_KEY (as for manage.py)
    cd /path/to/saleor && PYTHONPATH=. python /path/to/saleor-livedist/bench/bench_hook.py [--calls 1000] [--broker ...]

It creates a channel, a product and N orders (slug/e-mail domain `livedist-bench`) in Saleor's database and
deletes them, and everything our engine recorded about them, at the end; its Celery messages go to the given
Redis database and are purged at the end. Timings are wall-clock per call (perf_counter_ns), after a warm-up.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

PLUGIN_PATH = "saleor_livedist.saleor.plugin.LiveDistPlugin"
MARK = "livedist-bench"
DOMAIN = f"@{MARK}.invalid"
DISTRIBUTOR = f"guest:distributor{DOMAIN}"
WARMUP = 200  # calls per mode not timed: connection pools, caches, the first rules load
DOWN_CALLS, DOWN_WARMUP = 200, 20  # the broker-down mode, on orders of its own


def setup_django(broker: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor.settings")
    os.environ["CELERY_BROKER_URL"] = broker  # read by saleor.settings: tasks are published, not run eagerly
    os.environ.setdefault("SEND_USAGE_TELEMETRY", "False")
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # as in production: no per-query bookkeeping
    settings.PLUGINS = [PLUGIN_PATH]
    import logging

    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)  # one INFO line per eager task otherwise


# ---------------------------------------------------------------------- data (created, then deleted)


def create_catalogue() -> tuple[Any, Any]:
    from saleor.channel.models import Channel
    from saleor.product.models import Category, Product, ProductType, ProductVariant

    channel = Channel.objects.create(name=MARK, slug=MARK, currency_code="USD", default_country="US")
    product_type = ProductType.objects.create(name=MARK, slug=MARK)
    category = Category.objects.create(name=MARK, slug=MARK)
    product = Product.objects.create(name=MARK, slug=MARK, product_type=product_type, category=category)
    variant = ProductVariant.objects.create(product=product, sku=MARK, name=MARK)
    return channel, variant


def create_orders(channel: Any, variant: Any, count: int, token: str) -> list[Any]:
    """Checkout-like orders of one line (2 x 19.99 net), each from its own guest, each carrying a share token."""
    from saleor.order.models import Order, OrderLine

    orders = Order.objects.bulk_create([
        Order(channel=channel, currency="USD", origin="checkout", status="unfulfilled", lines_count=1,
              user_email=f"shopper{n}{DOMAIN}", metadata={"livedist_ref": token},
              total_net_amount=Decimal("39.98"), total_gross_amount=Decimal("39.98"))
        for n in range(count)])
    unit = Decimal("19.99")
    OrderLine.objects.bulk_create([
        OrderLine(order=order, variant=variant, product_name=MARK, variant_name=MARK, product_sku=MARK,
                  is_shipping_required=True, is_gift_card=False, quantity=2, currency="USD", unit_price_net_amount=unit,
                  unit_price_gross_amount=unit, total_price_net_amount=unit * 2, total_price_gross_amount=unit * 2)
        for order in orders])
    return list(Order.objects.filter(pk__in=[o.pk for o in orders]).select_related("channel"))


def become_distributor() -> str:
    from django.utils import timezone

    from saleor_livedist.inbox import processing
    from saleor_livedist.distribution.links import make_share_token

    processing.submit({"id": f"{MARK}:join", "type": "distributor.joined", "at": timezone.now().isoformat(),
                       "customer": DISTRIBUTOR}, process=False)
    processing.process_pending()
    return make_share_token(DISTRIBUTOR, "product", MARK)


def delete_everything() -> None:
    """Everything this script created, found by its marks (also what an interrupted run left behind)."""
    from django.db.models import Q
    from saleor.channel.models import Channel
    from saleor.order.models import Order
    from saleor.product.models import Category, Product, ProductType

    from saleor_livedist import models as m

    order_ids = [str(pk) for pk in Order.objects.filter(channel__slug=MARK).values_list("pk", flat=True)]
    ours = Q(event_id__startswith=f"{MARK}:") | Q(event_id__in=[f"saleor:order:{pk}:created" for pk in order_ids])
    m.InboxEvent.objects.filter(ours).delete()
    m.ProcessedEvent.objects.filter(ours).delete()
    m.Order.objects.filter(id__in=order_ids).delete()
    m.LedgerEntry.objects.filter(order__in=order_ids).delete()
    m.Click.objects.filter(identity__endswith=DOMAIN).delete()
    m.Binding.objects.filter(identity__endswith=DOMAIN).delete()
    m.Alias.objects.filter(customer__endswith=DOMAIN).delete()
    m.PayingCustomer.objects.filter(customer__endswith=DOMAIN).delete()
    m.TaskProgress.objects.filter(distributor=DISTRIBUTOR).delete()
    m.PointsGrant.objects.filter(beneficiary=DISTRIBUTOR).delete()
    m.Distributor.objects.filter(id=DISTRIBUTOR).delete()
    Order.objects.filter(channel__slug=MARK).delete()
    Product.objects.filter(slug=MARK).delete()
    ProductType.objects.filter(slug=MARK).delete()
    Category.objects.filter(slug=MARK).delete()
    Channel.objects.filter(slug=MARK).delete()


# ---------------------------------------------------------------------- timing


def manager_with_plugin(active: bool) -> Any:
    from saleor.plugins.manager import get_plugins_manager

    manager = get_plugins_manager(allow_replica=False)
    plugin = manager.get_plugin("saleor_livedist")
    assert plugin is not None, f"{PLUGIN_PATH} is not loadable: is saleor-livedist installed in this environment?"
    plugin.active = active  # as if switched on in the dashboard, without touching the store's configuration
    return manager


def time_calls(call: Callable[[Any], Any], orders: list[Any]) -> list[float]:
    timings = []
    for order in orders:
        start = time.perf_counter_ns()
        call(order)
        timings.append((time.perf_counter_ns() - start) / 1e6)
    return timings


def summary(name: str, ms: list[float]) -> str:
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return (f"{name:<11} n={len(ms):<5} p50={cuts[49]:7.3f} ms  p90={cuts[89]:7.3f} ms  p99={cuts[98]:7.3f} ms  "
            f"max={max(ms):7.3f} ms  mean={statistics.fmean(ms):7.3f} ms")


@contextmanager
def eager(on: bool) -> Iterator[None]:
    from celery import current_app
    from django.conf import settings

    before = (current_app.conf.task_always_eager, settings.CELERY_TASK_ALWAYS_EAGER)
    current_app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER = on
    try:
        yield
    finally:
        current_app.conf.task_always_eager, settings.CELERY_TASK_ALWAYS_EAGER = before


@contextmanager
def dead_broker() -> Iterator[str]:
    """The current Celery app replaced by one whose broker is a closed port (connection refused at once)."""
    import logging
    import socket

    from celery import Celery, current_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"
    previous = current_app._get_current_object()
    previous_env = os.environ["CELERY_BROKER_URL"]
    os.environ["CELERY_BROKER_URL"] = url  # Celery prefers this variable to an app's own broker setting
    app = Celery("livedist_bench_dead_broker", broker=url, set_as_current=True)
    app.finalize()
    quiet = [logging.getLogger(name) for name in ("saleor_livedist.inbox.tasks", "saleor_livedist.inbox.processing")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.ERROR)  # one warning per failed publish otherwise
    try:
        with eager(False):
            yield url
    finally:
        for logger, level in zip(quiet, levels):
            logger.setLevel(level)
        previous.set_current()
        os.environ["CELERY_BROKER_URL"] = previous_env


def purge_broker() -> int:
    from celery import current_app

    with current_app.connection_for_write() as connection:
        return connection.default_channel.queue_purge(current_app.conf.task_default_queue) or 0


# ---------------------------------------------------------------------- report


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine(broker: str) -> list[str]:
    import celery
    import django
    import saleor
    from django.db import connection

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else "?"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    try:
        import redis

        redis_version = redis.Redis.from_url(broker).info("server")["redis_version"]
    except Exception as exc:  # the report still says which broker it was
        redis_version = f"unknown ({exc.__class__.__name__})"
    return [
        f"machine   {platform.node()} {platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cpu(s), "
        f"load avg at start {load()}",
        f"software  Python {platform.python_version()}, Saleor {saleor.__version__}, Django {django.get_version()}, "
        f"Celery {celery.__version__}, PostgreSQL {postgres}, Redis {redis_version} at {broker}",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1000, help="timed calls per mode (default 1000)")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/14",
                        help="the Redis database the hand-off publishes to; purged at the end")
    args = parser.parse_args()
    setup_django(args.broker)

    from saleor_livedist.models import InboxEvent

    lines = machine(args.broker)
    delete_everything()
    try:
        channel, variant = create_catalogue()
        token = become_distributor()
        orders = create_orders(channel, variant, args.calls + WARMUP, token)
        down_orders = create_orders(channel, variant, DOWN_CALLS + DOWN_WARMUP, token)
        off, on = manager_with_plugin(active=False), manager_with_plugin(active=True)

        baseline = time_calls(lambda o: off.order_created(o, webhooks=set()), orders)[WARMUP:]
        with eager(False):
            handoff = time_calls(lambda o: on.order_created(o, webhooks=set()), orders)[WARMUP:]
        purged = purge_broker()
        with eager(True):  # every order is new to the engine: the full inline path each time
            inline = time_calls(lambda o: on.order_created(o, webhooks=set()), orders)[WARMUP:]
        processed = InboxEvent.objects.filter(
            event_id__in=[f"saleor:order:{o.pk}:created" for o in orders], status="done").count()
        with dead_broker() as dead_url:
            down = time_calls(lambda o: on.order_created(o, webhooks=set()), down_orders)[DOWN_WARMUP:]
        kept = InboxEvent.objects.filter(
            event_id__in=[f"saleor:order:{o.pk}:created" for o in down_orders], status="pending").count()
    finally:
        delete_everything()

    print(f"saleor-livedist: PluginsManager.order_created, ms per call, {WARMUP} warm-up calls per mode not timed")
    for line in lines:
        print(line)
    print(summary("baseline", baseline), " (plugin off: Saleor's dispatch)")
    print(summary("hand-off", handoff), f" (broker; {purged} messages published, purged)")
    print(summary("inline", inline), f" (eager; {processed} order.created events processed)")
    print(summary("broker-down", down), f" ({dead_url}; {kept} order.created events kept for the sweep)")
    added = statistics.median(handoff) - statistics.median(baseline)
    p99 = statistics.quantiles(handoff, n=100, method="inclusive")[98]
    print(f"hand-off adds {added:.3f} ms at the median; p99 {p99:.3f} ms vs target 2 ms: "
          f"{'OK' if p99 <= 2 else 'OVER'} (load avg at end {load()}; on a shared machine the tail is noisy)")
    ok = processed == len(orders) and purged >= len(orders) and kept == len(down_orders)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
