"""The Django app: Saleor adds it to INSTALLED_APPS through the `saleor.plugins` entry point."""
from django.apps import AppConfig, apps


class LiveDistConfig(AppConfig):
    name = "saleor_livedist"
    label = "saleor_livedist"
    verbose_name = "Live + distribution"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
        # Registers the shared tasks with the host's Celery app: its autodiscovery looks only at
        # saleor_livedist.tasks, and the tasks live with what they run.
        from .distribution import tasks as distribution_tasks  # noqa: F401
        from .inbox import tasks as inbox_tasks  # noqa: F401
        from .live_room import tasks as live_room_tasks  # noqa: F401
        from .payouts import tasks as payout_tasks  # noqa: F401
        from .reports import tasks as reports_tasks  # noqa: F401

        add_periodic_tasks()
        if apps.is_installed("saleor.discount"):  # inside Saleor: live coupons are Saleor vouchers
            from .saleor.vouchers import use_saleor_vouchers

            use_saleor_vouchers()
        if apps.is_installed("saleor.product"):  # inside Saleor: share links name Saleor's products
            from .saleor.catalog import use_saleor_catalogue

            use_saleor_catalogue()


def add_periodic_tasks() -> None:
    """Merge our periodic tasks (inbox sweep, settlement, the reports' refresh, pool bonuses) into the host's Celery
    beat schedule, keeping any entry the host already defines under the same name."""
    import logging

    from .inbox.tasks import BEAT_SCHEDULE

    try:
        from celery import current_app

        conf = current_app.conf
        schedule = dict(conf.beat_schedule or {})
        for name, entry in BEAT_SCHEDULE.items():
            schedule.setdefault(name, entry)
        # A host configured from Django settings with a namespace (Saleor: CELERY) reads CELERY_BEAT_SCHEDULE
        # before beat_schedule, so a plain `conf.beat_schedule = ...` would be shadowed there.
        conf[f"{conf.prefix}BEAT_SCHEDULE" if conf.prefix else "beat_schedule"] = schedule
    except Exception:  # no Celery app configured: the management command still settles
        logging.getLogger(__name__).debug("could not add livedist periodic tasks", exc_info=True)
