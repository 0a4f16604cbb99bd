"""With the broker down, a request that hands off an event does not wait on it: the event is kept in the inbox,
publishing is tried once, and the periodic sweep processes the event. A real Celery app points at a closed
port (connection refused at once, as for a stopped Redis); real PostgreSQL."""
from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery, current_app
from django.utils import timezone

from saleor_livedist.inbox import broker, processing, tasks
from saleor_livedist.models import Distributor, InboxEvent
from saleor_livedist.sandbox.celery import create_app

BUDGET_SECONDS = 1.0  # Celery's own retry=False publish waits about 6 s here, its default retries about 0.6 s


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


@pytest.fixture
def dead_broker(settings: Any, monkeypatch: Any) -> Iterator[Celery]:
    previous = current_app._get_current_object()
    settings.CELERY_TASK_ALWAYS_EAGER = False
    url = f"redis://127.0.0.1:{closed_port()}/0"
    monkeypatch.setenv("CELERY_BROKER_URL", url)  # Celery prefers this variable to an app's broker setting
    app = create_app("livedist_dead_broker", broker_url=url,
                     task_always_eager=False)
    app.set_current()
    app.finalize()
    yield app
    previous.set_current()


def test_publish_to_a_dead_broker_fails_at_once(dead_broker: Celery) -> None:
    start = time.monotonic()
    assert broker.publish(tasks.process_events) is False
    assert time.monotonic() - start < BUDGET_SECONDS


@pytest.mark.django_db
def test_an_event_handed_off_with_the_broker_down_waits_in_the_inbox_for_the_sweep(
        dead_broker: Celery, django_capture_on_commit_callbacks: Any) -> None:
    assert broker.broker_configured()
    start = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:  # the request's commit
        assert processing.submit({"id": "down-1", "type": "distributor.joined", "at": timezone.now().isoformat(),
                                  "customer": "user:9001"})
    elapsed = time.monotonic() - start

    assert len(callbacks) == 1  # processing was to be enqueued after the commit
    assert elapsed < BUDGET_SECONDS, elapsed
    assert InboxEvent.objects.get(event_id="down-1").status == InboxEvent.PENDING
    assert not Distributor.objects.filter(id="user:9001").exists()

    assert tasks.process_events.apply().get() == 1  # the beat's sweep, once the broker is back

    assert InboxEvent.objects.get(event_id="down-1").status == InboxEvent.DONE
    assert Distributor.objects.filter(id="user:9001").exists()
