"""The live leaderboard counts what customers kept: each order remembers what it counts for (board_orders,
board_gmv), and the rows counted before are corrected here for the refunds and cancellations already
processed (they had added every paid order's full amount, for good)."""
from decimal import Decimal

from django.db import migrations, models

ZERO = Decimal(0)


def standing(snapshot, lifecycle):
    """(orders, gmv) the order counts for now, from its lines and lifecycle (as the engine's ledger reads them)."""
    amounts = {line["line"]: Decimal(line["amount"]) for line in snapshot["lines"]}
    refunded = {line: ZERO for line in amounts}
    cancelled = refunded_once = False
    for _at, _rank, _eid, etype, refunds in lifecycle:
        if etype == "order.cancelled":
            cancelled = True
        elif etype == "order.refunded":
            refunded_once = True
            for line, amount in refunds or [(line, amounts[line]) for line in amounts]:
                if line in amounts:
                    refunded[line] = min(amounts[line], refunded[line] + Decimal(amount))
    kept = ZERO if cancelled else sum((max(amounts[i] - refunded[i], ZERO) for i in amounts), ZERO)
    void = cancelled or (refunded_once and all(refunded[i] >= amounts[i] for i in amounts))
    return (0 if void else 1), kept


def correct_leaderboard(apps, schema_editor):
    Order = apps.get_model("saleor_livedist", "Order")
    LiveStat = apps.get_model("saleor_livedist", "LiveStat")
    for order in Order.objects.filter(paid_at__isnull=False, snapshot__isnull=False).iterator():
        attribution = order.snapshot["attribution"]
        live, seller = attribution.get("live"), attribution.get("paid_to")
        if attribution.get("context") != "live" or live is None or seller is None:
            continue
        full = sum((Decimal(line["amount"]) for line in order.snapshot["lines"]), ZERO)  # what was counted
        orders, gmv = standing(order.snapshot, order.lifecycle)
        order.board_orders, order.board_gmv = orders, gmv
        order.save(update_fields=["board_orders", "board_gmv"])
        if (orders, gmv) != (1, full):
            LiveStat.objects.filter(live=live, distributor=seller).update(
                orders=models.F("orders") - (1 - orders), gmv=models.F("gmv") - (full - gmv))


class Migration(migrations.Migration):

    dependencies = [
        ("saleor_livedist", "0013_task_cash"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="board_orders",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="order",
            name="board_gmv",
            field=models.DecimalField(decimal_places=4, default=0, max_digits=20),
        ),
        migrations.RunPython(correct_leaderboard, migrations.RunPython.noop),
    ]
