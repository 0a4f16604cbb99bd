from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('saleor_livedist', '0014_leaderboard_kept_amounts'),
    ]

    operations = [
        migrations.CreateModel(
            name='Customer',
            fields=[
                ('identity', models.CharField(max_length=255, primary_key=True, serialize=False)),
            ],
            options={
                'db_table': 'livedist_customer',
            },
        ),
        migrations.CreateModel(
            name='HeldInvitee',
            fields=[
                ('key', models.CharField(max_length=510, primary_key=True, serialize=False)),
                ('task', models.CharField(max_length=255)),
                ('scope_key', models.CharField(blank=True, max_length=255)),
                ('invitee', models.CharField(max_length=255)),
                ('inviter', models.CharField(db_index=True, max_length=255)),
                ('live', models.CharField(blank=True, max_length=255, null=True)),
                ('order', models.CharField(blank=True, max_length=255, null=True)),
                ('at', models.DateTimeField()),
                ('status', models.CharField(choices=[('held', 'held'), ('approved', 'approved'), ('rejected', 'rejected')], default='held', max_length=16)),
                ('reviewed_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'db_table': 'livedist_held_invitee',
                'ordering': ['at', 'key'],
                'indexes': [models.Index(fields=['status', 'at'], name='livedist_held_status')],
            },
        ),
        migrations.CreateModel(
            name='InviteeDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('distributor', models.CharField(max_length=255)),
                ('day', models.DateField()),
                ('count', models.PositiveIntegerField(default=0)),
            ],
            options={
                'db_table': 'livedist_invitee_day',
                'constraints': [models.UniqueConstraint(fields=('distributor', 'day'), name='livedist_invitee_day_unique')],
            },
        ),
        # Who is already known to be a customer: accounts visitor ids were stitched to, distributors, buyers.
        migrations.RunSQL(
            "INSERT INTO livedist_customer (identity) "
            "SELECT customer FROM livedist_alias UNION SELECT id FROM livedist_distributor "
            "UNION SELECT customer FROM livedist_order WHERE customer <> '' ON CONFLICT DO NOTHING",
            migrations.RunSQL.noop,
        ),
    ]
