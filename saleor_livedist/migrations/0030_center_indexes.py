"""The distributor's center reads a distributor's clicks and live invitations: indexed by distributor, built
concurrently (both tables grow with every click; a store keeps taking clicks while the index is built)."""
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ('saleor_livedist', '0029_pool_runs'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='click',
            index=models.Index(fields=['distributor', 'at'], name='livedist_click_distributor'),
        ),
        AddIndexConcurrently(
            model_name='liveinvitation',
            index=models.Index(fields=['distributor'], name='livedist_invite_distributor'),
        ),
    ]
