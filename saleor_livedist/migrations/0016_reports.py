"""The reports' order lines (ReportLine), computed in SQL from the orders a trigger marks changed
(ReportPending); every order already kept is marked here, so the first report computes them all. An index on
clicks by target for a live's funnel."""
from django.db import migrations, models

MARK = """
CREATE FUNCTION livedist_report_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO livedist_report_pending ("order")
    VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END) ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER livedist_report_mark AFTER INSERT OR UPDATE OR DELETE ON livedist_order
    FOR EACH ROW EXECUTE FUNCTION livedist_report_mark();
INSERT INTO livedist_report_pending ("order") SELECT id FROM livedist_order;
"""
UNMARK = """
DROP TRIGGER IF EXISTS livedist_report_mark ON livedist_order;
DROP FUNCTION IF EXISTS livedist_report_mark();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('saleor_livedist', '0015_guards'),
    ]

    operations = [
        migrations.CreateModel(
            name='ReportLine',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('order', models.CharField(max_length=255)),
                ('line', models.CharField(max_length=255)),
                ('first', models.BooleanField(default=False)),
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
                ('product', models.CharField(max_length=255)),
                ('featured', models.BooleanField(default=False)),
                ('amount', models.DecimalField(decimal_places=4, max_digits=20)),
                ('kept', models.DecimalField(decimal_places=4, max_digits=20)),
                ('commission', models.DecimalField(decimal_places=4, default=0, max_digits=20)),
                ('seller_commission', models.DecimalField(decimal_places=4, default=0, max_digits=20)),
            ],
            options={
                'db_table': 'livedist_report_line',
            },
        ),
        migrations.CreateModel(
            name='ReportPending',
            fields=[
                ('order', models.CharField(max_length=255, primary_key=True, serialize=False)),
            ],
            options={
                'db_table': 'livedist_report_pending',
            },
        ),
        migrations.AddIndex(
            model_name='click',
            index=models.Index(fields=['kind', 'target'], name='livedist_click_target'),
        ),
        migrations.AddIndex(
            model_name='reportline',
            index=models.Index(fields=['live', 'placed_at'], name='livedist_report_live'),
        ),
        migrations.AddIndex(
            model_name='reportline',
            index=models.Index(fields=['placed_at'], name='livedist_report_placed'),
        ),
        migrations.AddIndex(
            model_name='reportline',
            index=models.Index(fields=['customer'], name='livedist_report_customer'),
        ),
        migrations.AddIndex(
            model_name='reportline',
            index=models.Index(fields=['paid_to', 'placed_at'], name='livedist_report_seller'),
        ),
        migrations.AddConstraint(
            model_name='reportline',
            constraint=models.UniqueConstraint(fields=('order', 'line'), name='livedist_report_line_unique'),
        ),
        migrations.RunSQL(MARK, UNMARK),
    ]
