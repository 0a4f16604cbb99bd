"""The inbox: events handed off, kept once, applied exactly once with the engine; the Celery tasks."""
