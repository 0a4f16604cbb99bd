from django.db import migrations
from django.utils import timezone


def mark_current_bans(apps, schema_editor):
    """Distributors banned before the engine knew of bans are banned for it from now on: entries booked
    meanwhile stay as they were booked (a ban does not reach back), orders paid from now on pay them nothing."""
    DistributorBan = apps.get_model("saleor_livedist", "DistributorBan")
    BanMark = apps.get_model("saleor_livedist", "BanMark")
    now = timezone.now()
    BanMark.objects.bulk_create([
        BanMark(event=f"ban:before-0025:{ban.distributor}"[:255], distributor=ban.distributor, at=now, banned=True,
                reason=ban.reason)
        for ban in DistributorBan.objects.exclude(distributor__in=BanMark.objects.values("distributor"))
    ], ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ('saleor_livedist', '0024_points_redemption'),
    ]

    operations = [
        migrations.RunPython(mark_current_bans, migrations.RunPython.noop),
    ]
