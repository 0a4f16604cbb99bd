"""Order totals beside the report lines (ReportOrder: order-level reports read half as many rows), and whether a
line's buyer came through a distributor's link to the product; every order is marked again, so the next report
computes both for the orders already kept."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('saleor_livedist', '0016_reports'),
    ]

    operations = [
        migrations.CreateModel(
            name='ReportOrder',
            fields=[
                ('order', models.CharField(max_length=255, primary_key=True, serialize=False)),
                ('customer', models.CharField(max_length=255)),
                ('channel', models.CharField(blank=True, max_length=255)),
                ('currency', models.CharField(max_length=3)),
                ('placed_at', models.DateTimeField()),
                ('paid_at', models.DateTimeField(blank=True, null=True)),
                ('live', models.CharField(blank=True, max_length=255, null=True)),
                ('context', models.CharField(max_length=16)),
                ('paid_to', models.CharField(blank=True, max_length=255, null=True)),
                ('last_click', models.CharField(blank=True, max_length=255, null=True)),
                ('assists', models.JSONField(default=list)),
                ('amount', models.DecimalField(decimal_places=4, max_digits=20)),
                ('kept', models.DecimalField(decimal_places=4, max_digits=20)),
                ('commission', models.DecimalField(decimal_places=4, default=0, max_digits=20)),
                ('seller_commission', models.DecimalField(decimal_places=4, default=0, max_digits=20)),
            ],
            options={
                'db_table': 'livedist_report_order',
            },
        ),
        migrations.RemoveIndex(
            model_name='reportline',
            name='livedist_report_placed',
        ),
        migrations.RemoveIndex(
            model_name='reportline',
            name='livedist_report_customer',
        ),
        migrations.RemoveIndex(
            model_name='reportline',
            name='livedist_report_seller',
        ),
        migrations.AddField(
            model_name='reportline',
            name='from_link',
            field=models.BooleanField(default=False),
        ),
        migrations.AddIndex(
            model_name='reportline',
            index=models.Index(condition=models.Q(('from_link', True), ('paid_at__isnull', False)), fields=['product', 'customer'], name='livedist_report_link_buyer'),
        ),
        migrations.AddIndex(
            model_name='reportorder',
            index=models.Index(fields=['live', 'placed_at'], name='livedist_report_order_live'),
        ),
        migrations.AddIndex(
            model_name='reportorder',
            index=models.Index(fields=['customer'], name='livedist_report_order_buyer'),
        ),
        migrations.AddIndex(
            model_name='reportorder',
            index=models.Index(fields=['paid_to', 'placed_at'], name='livedist_report_order_seller'),
        ),
        migrations.AddIndex(
            model_name='reportorder',
            index=models.Index(condition=models.Q(('assists', []), _negated=True), fields=['placed_at'], name='livedist_report_order_assisted'),
        ),
        migrations.RunSQL(
            'INSERT INTO livedist_report_pending ("order") SELECT id FROM livedist_order ON CONFLICT DO NOTHING',
            migrations.RunSQL.noop,
        ),
    ]
