"""Viewers turned distributors (livedist_report_turned), what the matrix and converted viewers read when no filter
chooses the lives: kept by triggers recomputing one distributor when they join (or their joining time changes),
when a watch of theirs is written or removed, and for a live's watchers when its start changes."""
from django.db import migrations, models

# The distributor's latest live watched that had started when they joined (reports/matrix.py, TURNED).
TURNED = """
CREATE FUNCTION livedist_report_turn(who text) RETURNS void LANGUAGE sql AS $$
    DELETE FROM livedist_report_turned t WHERE t.distributor = who AND NOT EXISTS (
        SELECT 1 FROM livedist_distributor d JOIN livedist_watch w ON w.viewer = d.id
        JOIN livedist_live lv ON lv.id = w.live AND d.joined_at >= COALESCE(lv.started_at, lv.starts_at)
        WHERE d.id = who);
    INSERT INTO livedist_report_turned (distributor, live)
    SELECT d.id, lv.id FROM livedist_distributor d JOIN livedist_watch w ON w.viewer = d.id
    JOIN livedist_live lv ON lv.id = w.live AND d.joined_at >= COALESCE(lv.started_at, lv.starts_at)
    WHERE d.id = who ORDER BY COALESCE(lv.started_at, lv.starts_at) DESC, lv.id LIMIT 1
    ON CONFLICT (distributor) DO UPDATE SET live = EXCLUDED.live;
$$;

CREATE FUNCTION livedist_report_turn_distributor() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN PERFORM livedist_report_turn(OLD.id); END IF;
    IF TG_OP <> 'DELETE' THEN PERFORM livedist_report_turn(NEW.id); END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER livedist_report_turn_joined AFTER INSERT OR DELETE ON livedist_distributor
    FOR EACH ROW EXECUTE FUNCTION livedist_report_turn_distributor();
CREATE TRIGGER livedist_report_turn_rejoined AFTER UPDATE ON livedist_distributor
    FOR EACH ROW WHEN (OLD.joined_at IS DISTINCT FROM NEW.joined_at OR OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION livedist_report_turn_distributor();

CREATE FUNCTION livedist_report_turn_watch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND EXISTS (SELECT 1 FROM livedist_distributor WHERE id = OLD.viewer) THEN
        PERFORM livedist_report_turn(OLD.viewer);
    END IF;
    IF TG_OP <> 'DELETE' AND EXISTS (SELECT 1 FROM livedist_distributor WHERE id = NEW.viewer) THEN
        PERFORM livedist_report_turn(NEW.viewer);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER livedist_report_turn_watched AFTER INSERT OR DELETE ON livedist_watch
    FOR EACH ROW EXECUTE FUNCTION livedist_report_turn_watch();
CREATE TRIGGER livedist_report_turn_rewatched AFTER UPDATE ON livedist_watch
    FOR EACH ROW WHEN (OLD.live IS DISTINCT FROM NEW.live OR OLD.viewer IS DISTINCT FROM NEW.viewer)
    EXECUTE FUNCTION livedist_report_turn_watch();

CREATE FUNCTION livedist_report_turn_live() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM livedist_report_turn(w.viewer)
    FROM livedist_watch w JOIN livedist_distributor d ON d.id = w.viewer
    WHERE w.live IN (CASE WHEN TG_OP <> 'INSERT' THEN OLD.id END, CASE WHEN TG_OP <> 'DELETE' THEN NEW.id END);
    RETURN NULL;
END $$;
CREATE TRIGGER livedist_report_turn_live AFTER INSERT OR DELETE ON livedist_live
    FOR EACH ROW EXECUTE FUNCTION livedist_report_turn_live();
CREATE TRIGGER livedist_report_turn_restarted AFTER UPDATE ON livedist_live
    FOR EACH ROW WHEN (OLD.started_at IS DISTINCT FROM NEW.started_at OR OLD.starts_at IS DISTINCT FROM NEW.starts_at
                       OR OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION livedist_report_turn_live();

INSERT INTO livedist_report_turned (distributor, live)
SELECT DISTINCT ON (d.id) d.id, lv.id
FROM livedist_distributor d
JOIN livedist_watch w ON w.viewer = d.id
JOIN livedist_live lv ON lv.id = w.live AND d.joined_at >= COALESCE(lv.started_at, lv.starts_at)
ORDER BY d.id, COALESCE(lv.started_at, lv.starts_at) DESC, lv.id;
"""
UNTURNED = """
DROP TRIGGER IF EXISTS livedist_report_turn_joined ON livedist_distributor;
DROP TRIGGER IF EXISTS livedist_report_turn_rejoined ON livedist_distributor;
DROP TRIGGER IF EXISTS livedist_report_turn_watched ON livedist_watch;
DROP TRIGGER IF EXISTS livedist_report_turn_rewatched ON livedist_watch;
DROP TRIGGER IF EXISTS livedist_report_turn_live ON livedist_live;
DROP TRIGGER IF EXISTS livedist_report_turn_restarted ON livedist_live;
DROP FUNCTION IF EXISTS livedist_report_turn_distributor();
DROP FUNCTION IF EXISTS livedist_report_turn_watch();
DROP FUNCTION IF EXISTS livedist_report_turn_live();
DROP FUNCTION IF EXISTS livedist_report_turn(text);
"""


class Migration(migrations.Migration):

    dependencies = [
        ('saleor_livedist', '0031_reminder_offsets'),
    ]

    operations = [
        migrations.CreateModel(
            name='ReportTurned',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('distributor', models.CharField(max_length=255, unique=True)),
                ('live', models.CharField(max_length=255)),
            ],
            options={
                'db_table': 'livedist_report_turned',
            },
        ),
        migrations.RunSQL(TURNED, UNTURNED),
    ]
