"""TEST HELPER, not a test and not for production: the Celery app of the "rescuing" worker in
tests/integration/test_celery_worker.py (test_a_task_killed_mid_flight_is_redelivered_to_another_worker).

It is the sandbox's app, built by the same factory (saleor_livedist.sandbox.celery.create_app), with one change:
on Redis, a task that a dead worker had received but not acknowledged (acks_late) is redelivered after
`visibility_timeout` seconds, one hour by default (and looked for every 100 s); here after 2 seconds, looked for
every second, so the test can show the redelivery within its time budget. (RabbitMQ ignores these options: it
redelivers as soon as the dead worker's connection drops.)

Run as: python -m celery -A tests.integration.celery_redelivery_app worker ...
"""
from saleor_livedist.sandbox.celery import create_app

app = create_app(broker_transport_options={
    "visibility_timeout": 2, "unacked_restore_interval": 1, "unacked_restore_throttle": 1})
