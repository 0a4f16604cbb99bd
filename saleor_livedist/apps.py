"""The Django app: Saleor adds it to INSTALLED_APPS through the `saleor.plugins` entry point."""
from django.apps import AppConfig


class LiveDistConfig(AppConfig):
    name = "saleor_livedist"
    label = "saleor_livedist"
    verbose_name = "Live + distribution"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
