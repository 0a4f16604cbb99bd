"""The plugin's HTTP endpoints, served by Saleor under /plugins/global/saleor_livedist/<path> and by the
sandbox at /<path>: graphql/, click/<token>, viewer/ (issue: live room)."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse


def dispatch(request: HttpRequest, path: str) -> HttpResponse:
    return JsonResponse({"errors": [{"message": f"no endpoint at {path!r}"}]}, status=404)
