"""A payout batch delivered by a real Celery worker process on Redis, to a gateway that fails first: the task
retries, and the gateway gets the same batch id (Idempotency-Key) both times. Needs a broker (CELERY_TEST_BROKER)."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterator

import pytest
from django.db import transaction

from saleor_livedist.models import PayoutBatch
from tests.integration.test_celery_worker import (
    BROKER, SANDBOX_APP, Worker, _broker_reachable, _database_url, _purge, _unique_queue, publishing_to, wait_until,
)
from tests.integration.test_payouts_webhook import SECRET, Gateway, approved_batch, gateway  # noqa: F401

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not _broker_reachable(BROKER), reason="no message broker reachable: start Redis (or set "
                                                              "CELERY_TEST_BROKER) to run the real-worker tests"),
]


@pytest.fixture
def payout_worker(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> Iterator[Worker]:  # noqa: F811
    monkeypatch.setenv("LIVEDIST_PAYOUT_WEBHOOK_URL", f"http://127.0.0.1:{gateway.server_port}/payouts")
    monkeypatch.setenv("LIVEDIST_PAYOUT_WEBHOOK_SECRET", SECRET)
    started = Worker("payouts", SANDBOX_APP, _unique_queue(), _database_url())
    try:
        started.wait_ready()
        _purge(started.queue)
        yield started
    finally:
        started.stop()
        _purge(started.queue, delete=True)


def test_a_failed_delivery_is_retried_by_the_worker(gateway: Gateway, payout_worker: Worker) -> None:  # noqa: F811
    gateway.answer = 503
    with publishing_to(payout_worker.queue):
        with transaction.atomic():
            batch = approved_batch()
    wait_until(lambda: len(gateway.received) >= 1, "the first delivery", payout_worker)
    gateway.answer = 200
    wait_until(lambda: PayoutBatch.objects.get(id=batch.id).delivery == "sent", "the retried delivery",
               payout_worker, timeout=90)
    assert len(gateway.received) == 2
    for headers, body in gateway.received:
        stamp = headers["X-Livedist-Timestamp"]
        assert headers["X-Livedist-Signature"] == "sha256=" + hmac.new(
            SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        assert headers["Idempotency-Key"] == batch.id and json.loads(body)["batch"] == batch.id
    assert PayoutBatch.objects.get(id=batch.id).delivery_attempts == 2
    assert os.environ["LIVEDIST_PAYOUT_WEBHOOK_SECRET"] == SECRET
