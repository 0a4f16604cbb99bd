from django.apps import AppConfig


class AppServerConfig(AppConfig):
    """App mode's own table (the Saleor instances it serves), kept in the public schema only."""

    name = "saleor_livedist.app_server"
    label = "livedist_app"
    verbose_name = "Live + distribution: App mode"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        from . import tasks  # noqa: F401  (its tasks, and the signal that names a message's schema)

        if getattr(settings, "LIVEDIST_APP_MODE", False):  # App mode's project (not the sandbox, which has it too)
            from .store_api import use_app_ports

            use_app_ports()
