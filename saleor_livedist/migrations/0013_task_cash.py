"""Task cash rewards are booked on the invitee's paid order: Order.rewards, and PayingCustomer keeps the
customer's latest paid order (filled here from the orders already processed)."""
from datetime import datetime

from django.db import migrations, models


def latest_paid_orders(apps, schema_editor):
    PayingCustomer = apps.get_model("saleor_livedist", "PayingCustomer")
    Order = apps.get_model("saleor_livedist", "Order")
    for paying in PayingCustomer.objects.all().iterator():
        latest = None
        for order in Order.objects.filter(customer=paying.customer, paid_at__isnull=False, snapshot__isnull=False):
            at = datetime.fromisoformat(order.snapshot["at"])
            if latest is None or at >= latest[1]:
                latest = (order.id, at, order.snapshot["attribution"].get("live"))
        if latest is not None:
            paying.order, paying.order_at, paying.live = latest
            paying.save(update_fields=["order", "order_at", "live"])


class Migration(migrations.Migration):

    dependencies = [
        ("saleor_livedist", "0012_watch_spans"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="rewards",
            field=models.JSONField(default=list),
        ),
        migrations.AddField(
            model_name="payingcustomer",
            name="order",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
        migrations.AddField(
            model_name="payingcustomer",
            name="order_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="payingcustomer",
            name="live",
            field=models.CharField(blank=True, max_length=255, null=True),
        ),
        migrations.RunPython(latest_paid_orders, migrations.RunPython.noop),
    ]
