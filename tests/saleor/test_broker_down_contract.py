"""With the broker down, Saleor's checkoutComplete does not wait on it: the hooks try to publish once, keep the
event in the inbox, and the periodic sweep processes it when the broker is back. A real Celery app points at
a closed port (connection refused at once, as for a stopped Redis).

Saleor is imported inside the tests only: without it (this project's own test run) they are skipped."""
from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery, current_app

from saleor_livedist.models import InboxEvent, LedgerEntry

from .test_contract import handed_off, place_order

HOOKS_BUDGET_SECONDS = 1.0  # what the plugin may add to checkoutComplete with the broker down


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


@pytest.fixture
def dead_broker(settings: Any, monkeypatch: Any) -> Iterator[Celery]:
    """Saleor configured with a broker (tasks are published, not run eagerly) that is down."""
    previous = current_app._get_current_object()
    settings.CELERY_TASK_ALWAYS_EAGER = False
    url = f"redis://127.0.0.1:{closed_port()}/0"
    monkeypatch.setenv("CELERY_BROKER_URL", url)  # Celery prefers this variable to an app's broker setting
    app = Celery("livedist_dead_broker", broker=url, set_as_current=True)
    app.finalize()  # our shared tasks bind to it
    yield app
    previous.set_current()


def test_checkout_complete_does_not_wait_on_a_dead_broker_and_the_sweep_processes_the_order(
        livedist: Any, api_client: Any, checkout_ready_to_complete: Any, distributor: str, share_token: str,
        dead_broker: Celery, monkeypatch: Any) -> None:
    from saleor_livedist.inbox import tasks
    from saleor_livedist.saleor import plugin

    spent: list[float] = []
    hand_off = plugin._hand_off_order

    def timed(*args: Any) -> None:
        start = time.monotonic()
        try:
            hand_off(*args)
        finally:
            spent.append(time.monotonic() - start)

    monkeypatch.setattr(plugin, "_hand_off_order", timed)

    order = place_order(api_client, checkout_ready_to_complete, {"livedist_ref": share_token})

    assert len(spent) >= 2  # order_created and order_paid / order_fully_paid
    assert sum(spent) < HOOKS_BUDGET_SECONDS, spent
    created = InboxEvent.objects.get(event_id=f"saleor:order:{order.pk}:created")
    assert created.status == InboxEvent.PENDING  # kept; processing could not be enqueued
    assert not LedgerEntry.objects.filter(order=str(order.pk)).exists()

    tasks.process_events.apply()  # the beat's sweep, once the broker is back

    handed_off(f"saleor:order:{order.pk}:created")
    handed_off(f"saleor:order:{order.pk}:paid")
    [entry] = LedgerEntry.objects.filter(order=str(order.pk), beneficiary=distributor)
    assert (entry.kind, entry.status) == ("commission", "pending")
