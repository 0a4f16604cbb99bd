import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []

    operations = [
        migrations.CreateModel(
            name="Tenant",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("api_url", models.CharField(max_length=500, unique=True)),
                ("schema", models.CharField(max_length=63, unique=True)),
                ("sealed_token", models.TextField()),
                ("app_id", models.CharField(max_length=200)),
                ("registered_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={"db_table": "livedist_app_tenant"},
        ),
    ]
