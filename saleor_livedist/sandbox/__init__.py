"""The sandbox Django project: the demo, the tests, and the plugin run without Saleor."""
# The sandbox's Celery app (Django's usual pattern): importing it makes it the process's current app, so the
# plugin's shared tasks publish to the sandbox's CELERY_BROKER_URL. Cheap and safe: it reads neither the
# settings nor the broker until a task is sent or a worker starts.
from .celery import app as celery_app  # noqa: E402

__all__ = ["celery_app"]
