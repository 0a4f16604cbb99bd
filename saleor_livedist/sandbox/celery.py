"""The sandbox's Celery app, so the plugin's shared tasks (saleor_livedist.inbox.tasks) run on real workers:

    CELERY_BROKER_URL=redis://127.0.0.1:6379/0 DATABASE_URL=postgresql://... \\
        python -m celery -A saleor_livedist.sandbox.celery worker -l info

Configuration comes from the sandbox's Django settings, keys prefixed CELERY_ (CELERY_BROKER_URL is read from
the environment there; empty means no broker and events are processed inline). CELERY_TASK_DEFAULT_QUEUE in
the environment, when set, names the queue tasks are sent to (the worker consumes it with `-Q`).

Inside Saleor this module is not used: the shared tasks bind to Saleor's own app (saleor.celeryconf).
Creating the app is cheap and touches neither the broker nor the Django settings: both are read lazily,
on first use, so importing the sandbox settings never needs a broker.
"""
from __future__ import annotations

import os
from typing import Any

from celery import Celery

SETTINGS_MODULE = "saleor_livedist.sandbox.settings"


def create_app(main: str = "livedist_sandbox", **preconf: Any) -> Celery:
    """A Celery app configured from the Django settings (namespace CELERY). `preconf` are Celery settings
    (lower-case names, e.g. task_default_queue=...) that win over the Django settings."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    queue = os.environ.get("CELERY_TASK_DEFAULT_QUEUE")
    if queue:
        preconf.setdefault("task_default_queue", queue)
    preconf.setdefault("broker_connection_retry_on_startup", True)
    celery_app = Celery(main, **preconf)
    celery_app.config_from_object("django.conf:settings", namespace="CELERY")  # lazy: read on first use
    celery_app.autodiscover_tasks()  # lazy: imports <app>.tasks of INSTALLED_APPS when the worker starts
    return celery_app


# The project's app: the current and default app of any process that imports the sandbox (see __init__), so
# `process_events.delay()` publishes to CELERY_BROKER_URL and `-A saleor_livedist.sandbox.celery` finds it.
app = create_app()
