"""The token Saleor gives the app at install (the console mounted in the Dashboard as a Saleor App)."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('saleor_livedist', '0019_console_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='AppRegistration',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('saleor_api_url', models.CharField(max_length=500, unique=True)),
                ('token', models.CharField(max_length=255)),
                ('registered_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'verbose_name': 'app registration',
                'db_table': 'livedist_app_registration',
            },
        ),
    ]
