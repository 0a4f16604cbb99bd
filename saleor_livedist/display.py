"""The time zone people read and type times in (LIVEDIST DISPLAY_TIME_ZONE, default the project's TIME_ZONE):
the admin, messages of the API and the command line's output. Stored times and events stay timezone-aware UTC."""
from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .conf import ImproperlyConfigured, get_setting


def zone() -> tzinfo:
    name = get_setting("DISPLAY_TIME_ZONE") or _project_time_zone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"LIVEDIST DISPLAY_TIME_ZONE must be a time zone name such as 'Asia/Shanghai', "
                                   f"got {name!r}") from None


def _project_time_zone() -> str:
    from django.conf import settings

    return (getattr(settings, "TIME_ZONE", None) if settings.configured else None) or "UTC"


def show(at: datetime) -> str:
    """2026-12-01 20:00 +08:00: minutes, in the display zone, with the offset so that it is never ambiguous."""
    local = at.astimezone(zone())
    return local.strftime("%Y-%m-%d %H:%M ") + local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:]


_ISO_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})")


def show_in_text(text: str) -> str:
    """Every ISO time with an offset in `text` (e.g. the engine's reasons, written in the event's own offset)
    rewritten as `show` writes it."""
    def local(match: re.Match[str]) -> str:
        try:
            return show(datetime.fromisoformat(match.group(0).replace("Z", "+00:00")))
        except ValueError:
            return match.group(0)

    return _ISO_TIME.sub(local, text)


class DisplayTimeZoneMiddleware:
    """Activates the display zone for a request: the admin shows and reads times in it."""

    def __init__(self, get_response: Callable[[Any], Any]):
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        from django.utils import timezone

        with timezone.override(zone()):
            return self.get_response(request)
