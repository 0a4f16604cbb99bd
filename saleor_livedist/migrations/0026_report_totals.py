"""The whole-store report totals (per distributor and live, per distributor, the shares' groups, per product), kept
by the report refresh; the people who clicked distributors' links to each product, kept by triggers on the clicks
and aliases; orders re-marked when a distributor joins (or their joining time changes). The report lines are
cleared and every order marked, so the next refresh computes lines and totals together from scratch. The order
mark now locks its pending row, so a refresh never claims an order whose write has not committed."""
from django.db import migrations, models

MARK = """
CREATE OR REPLACE FUNCTION livedist_report_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO livedist_report_pending ("order")
    VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END)
    ON CONFLICT ("order") DO UPDATE SET "order" = EXCLUDED."order";  -- locked until the writer commits
    RETURN NULL;
END $$;
"""
UNMARK = """
CREATE OR REPLACE FUNCTION livedist_report_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO livedist_report_pending ("order")
    VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END) ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
"""

# Orders paying a distributor are computed again when the distributor joins or their joining time changes:
# whether an order was placed after joining is kept on the order's report row.
SELLERS = """
CREATE FUNCTION livedist_report_mark_seller() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO livedist_report_pending ("order")
    SELECT "order" FROM livedist_report_order WHERE paid_to = NEW.id
    ON CONFLICT ("order") DO UPDATE SET "order" = EXCLUDED."order";
    RETURN NULL;
END $$;
CREATE TRIGGER livedist_report_seller_joined AFTER INSERT ON livedist_distributor
    FOR EACH ROW EXECUTE FUNCTION livedist_report_mark_seller();
CREATE TRIGGER livedist_report_seller_rejoined AFTER UPDATE ON livedist_distributor
    FOR EACH ROW WHEN (OLD.joined_at IS DISTINCT FROM NEW.joined_at) EXECUTE FUNCTION livedist_report_mark_seller();
"""
UNSELLERS = """
DROP TRIGGER IF EXISTS livedist_report_seller_joined ON livedist_distributor;
DROP TRIGGER IF EXISTS livedist_report_seller_rejoined ON livedist_distributor;
DROP FUNCTION IF EXISTS livedist_report_mark_seller();
"""

# A product's clickers: each click of kind 'product' counts for its target and its person (the customer a
# visitor id is stitched to, else the id itself), +1 when written and -1 when gone; a visitor stitched to a
# customer (or unstitched) moves their clicks between the two. Rows at 0 are kept and not read.
CLICKERS = """
CREATE FUNCTION livedist_report_clicks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO livedist_report_clicker (product, person, clicks)
    SELECT c.target, COALESCE(a.customer, c.identity), TG_ARGV[0]::int * count(*)
    FROM changed c LEFT JOIN livedist_alias a ON a.visitor = c.identity
    WHERE c.kind = 'product' GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (product, person) DO UPDATE SET clicks = livedist_report_clicker.clicks + EXCLUDED.clicks;
    RETURN NULL;
END $$;
CREATE TRIGGER livedist_report_clicks_added AFTER INSERT ON livedist_click
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION livedist_report_clicks('1');
CREATE TRIGGER livedist_report_clicks_gone AFTER DELETE ON livedist_click
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION livedist_report_clicks('-1');
CREATE TRIGGER livedist_report_clicks_was AFTER UPDATE ON livedist_click
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION livedist_report_clicks('-1');
CREATE TRIGGER livedist_report_clicks_now AFTER UPDATE ON livedist_click
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION livedist_report_clicks('1');

CREATE FUNCTION livedist_report_stitched() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO livedist_report_clicker (product, person, clicks)
    SELECT k.target, p.person, SUM(p.sign * k.n)
    FROM (SELECT a.visitor, a.customer, c.target, count(*) AS n
          FROM changed a JOIN livedist_click c ON c.identity = a.visitor AND c.kind = 'product'
          GROUP BY 1, 2, 3) k
    CROSS JOIN LATERAL (VALUES (k.customer, TG_ARGV[0]::int), (k.visitor, -TG_ARGV[0]::int)) p(person, sign)
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (product, person) DO UPDATE SET clicks = livedist_report_clicker.clicks + EXCLUDED.clicks;
    RETURN NULL;
END $$;
CREATE TRIGGER livedist_report_stitched AFTER INSERT ON livedist_alias
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION livedist_report_stitched('1');
CREATE TRIGGER livedist_report_unstitched AFTER DELETE ON livedist_alias
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION livedist_report_stitched('-1');
CREATE TRIGGER livedist_report_restitched_was AFTER UPDATE ON livedist_alias
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION livedist_report_stitched('-1');
CREATE TRIGGER livedist_report_restitched_now AFTER UPDATE ON livedist_alias
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION livedist_report_stitched('1');

INSERT INTO livedist_report_clicker (product, person, clicks)
SELECT c.target, COALESCE(a.customer, c.identity), count(*)
FROM livedist_click c LEFT JOIN livedist_alias a ON a.visitor = c.identity
WHERE c.kind = 'product' GROUP BY 1, 2;
"""
UNCLICKERS = """
DROP TRIGGER IF EXISTS livedist_report_clicks_added ON livedist_click;
DROP TRIGGER IF EXISTS livedist_report_clicks_gone ON livedist_click;
DROP TRIGGER IF EXISTS livedist_report_clicks_was ON livedist_click;
DROP TRIGGER IF EXISTS livedist_report_clicks_now ON livedist_click;
DROP FUNCTION IF EXISTS livedist_report_clicks();
DROP TRIGGER IF EXISTS livedist_report_stitched ON livedist_alias;
DROP TRIGGER IF EXISTS livedist_report_unstitched ON livedist_alias;
DROP TRIGGER IF EXISTS livedist_report_restitched_was ON livedist_alias;
DROP TRIGGER IF EXISTS livedist_report_restitched_now ON livedist_alias;
DROP FUNCTION IF EXISTS livedist_report_stitched();
"""

# Lines and totals computed together by the next refresh.
RECOMPUTE = """
TRUNCATE livedist_report_line, livedist_report_order;
INSERT INTO livedist_report_pending ("order") SELECT id FROM livedist_order ON CONFLICT DO NOTHING;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('saleor_livedist', '0025_mark_earlier_bans'),
    ]

    operations = [
        migrations.AddField(
            model_name='reportorder',
            name='after_joining',
            field=models.BooleanField(default=False),
        ),
        migrations.CreateModel(
            name='ReportClicker',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('product', models.CharField(max_length=255)),
                ('person', models.CharField(max_length=255)),
                ('clicks', models.BigIntegerField(default=0)),
            ],
            options={
                'db_table': 'livedist_report_clicker',
                'constraints': [models.UniqueConstraint(fields=('product', 'person'), name='livedist_report_clicker_key')],
            },
        ),
        migrations.CreateModel(
            name='ReportProduct',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('product', models.CharField(max_length=255)),
                ('currency', models.CharField(max_length=3)),
                ('lines', models.BigIntegerField(default=0)),
                ('gmv', models.DecimalField(decimal_places=4, default=0, max_digits=24)),
                ('distributed_gmv', models.DecimalField(decimal_places=4, default=0, max_digits=24)),
                ('commission', models.DecimalField(decimal_places=4, default=0, max_digits=24)),
                ('live_gmv', models.DecimalField(decimal_places=4, default=0, max_digits=24)),
            ],
            options={
                'db_table': 'livedist_report_product',
                'constraints': [models.UniqueConstraint(fields=('product', 'currency'), name='livedist_report_product_key')],
            },
        ),
        migrations.CreateModel(
            name='ReportSeller',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('distributor', models.CharField(max_length=255)),
                ('currency', models.CharField(max_length=3)),
                ('bound_orders', models.BigIntegerField(default=0)),
                ('bound_gmv', models.DecimalField(decimal_places=4, default=0, max_digits=24)),
                ('bound_commission', models.DecimalField(decimal_places=4, default=0, max_digits=24)),
                ('last_click_orders', models.BigIntegerField(default=0)),
                ('last_click_gmv', models.DecimalField(decimal_places=4, default=0, max_digits=24)),
                ('assisted_orders', models.BigIntegerField(default=0)),
                ('assisted_gmv', models.DecimalField(decimal_places=4, default=0, max_digits=24)),
                ('joined_orders', models.BigIntegerField(default=0)),
                ('joined_paid_orders', models.BigIntegerField(default=0)),
                ('joined_paid_gmv', models.DecimalField(decimal_places=4, default=0, max_digits=24)),
                ('joined_commission', models.DecimalField(decimal_places=4, default=0, max_digits=24)),
            ],
            options={
                'db_table': 'livedist_report_seller',
                'constraints': [models.UniqueConstraint(fields=('distributor', 'currency'), name='livedist_report_seller_key')],
            },
        ),
        migrations.CreateModel(
            name='ReportSellerLive',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('distributor', models.CharField(max_length=255)),
                ('live', models.CharField(max_length=255)),
                ('currency', models.CharField(max_length=3)),
                ('orders', models.BigIntegerField(default=0)),
                ('paid_orders', models.BigIntegerField(default=0)),
                ('paid_gmv', models.DecimalField(decimal_places=4, default=0, max_digits=24)),
                ('commission', models.DecimalField(decimal_places=4, default=0, max_digits=24)),
                ('team_commission', models.DecimalField(decimal_places=4, default=0, max_digits=24)),
            ],
            options={
                'db_table': 'livedist_report_seller_live',
                'constraints': [models.UniqueConstraint(fields=('distributor', 'live', 'currency'), name='livedist_report_seller_live_key')],
            },
        ),
        migrations.CreateModel(
            name='ReportShare',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('currency', models.CharField(max_length=3)),
                ('from_live', models.BooleanField()),
                ('sold', models.BooleanField()),
                ('orders', models.BigIntegerField(default=0)),
                ('gmv', models.DecimalField(decimal_places=4, default=0, max_digits=24)),
                ('last_click_agrees', models.BigIntegerField(default=0)),
                ('last_click_differs', models.BigIntegerField(default=0)),
                ('unclicked', models.BigIntegerField(default=0)),
            ],
            options={
                'db_table': 'livedist_report_share',
                'constraints': [models.UniqueConstraint(fields=('currency', 'from_live', 'sold'), name='livedist_report_share_key')],
            },
        ),
        migrations.RunSQL(MARK, UNMARK),
        migrations.RunSQL(SELLERS, UNSELLERS),
        migrations.RunSQL(CLICKERS, UNCLICKERS),
        migrations.RunSQL(RECOMPUTE, migrations.RunSQL.noop),
    ]
