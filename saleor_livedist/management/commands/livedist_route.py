"""manage.py livedist_route: join the identities of every event kept without routing (with PARTITIONS=1) in the
routing's union-find, so that partitioned processing (PARTITIONS > 1) runs in parallel from its first event.
Run it before switching, or after: until it is done, events are barriers (applied one at a time, as with one
partition). Idempotent; a thousand rows per transaction."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = "Join the identities of the events kept with one partition, ahead of partitioned processing."

    def handle(self, *args: Any, **options: Any) -> None:
        from ...inbox import routing
        from ...models import InboxEvent

        left = InboxEvent.objects.filter(routed=False).count()
        done = False
        while not done:
            with transaction.atomic():
                routing.lock_router()
                done = routing.catch_up(limit=routing.CATCH_UP)
        self.stdout.write(_("%(count)d event(s) routed; every event in the inbox is routed") % {"count": left})
