"""Executing the API for an HTTP request: JSON in ({query, variables, operationName}), JSON out."""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from ..identity import of_user
from .schema import Context, PermissionDenied, schema

logger = logging.getLogger(__name__)

Authenticator = Callable[[HttpRequest], Any]


def execute(request: HttpRequest, authenticate: Authenticator) -> HttpResponse:
    if request.method != "POST":
        return JsonResponse({"errors": [{"message": "POST a JSON body {query, variables}"}]}, status=405)
    try:
        body = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return JsonResponse({"errors": [{"message": "the body is not valid JSON"}]}, status=400)
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return JsonResponse({"errors": [{"message": "the body must be an object with a 'query' string"}]}, status=400)
    variables = body.get("variables") or {}
    if not isinstance(variables, dict):
        return JsonResponse({"errors": [{"message": "'variables' must be an object"}]}, status=400)
    user = authenticate(request)
    active = user is not None and getattr(user, "is_active", False)
    context = Context(user=user if active else None, identity=of_user(user) if active else None,
                      is_staff=bool(active and getattr(user, "is_staff", False)), request=request)
    result = schema.execute(body["query"], context_value=context, variable_values=variables,
                            operation_name=body.get("operationName"))
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [_error(e) for e in result.errors]
    return JsonResponse(payload, status=200)


def _error(error: Exception) -> dict[str, Any]:
    original = getattr(error, "original_error", None)
    if isinstance(original, PermissionDenied):
        return {"message": str(original), "extensions": {"code": "PERMISSION_DENIED"}}
    if isinstance(original, ValueError):  # a bad argument, explained by the resolver
        return {"message": str(original), "extensions": {"code": "INVALID"}}
    if original is not None:  # a bug of ours: log it, do not leak internals
        logger.error("livedist GraphQL resolver failed", exc_info=original)
        return {"message": "internal error", "extensions": {"code": "INTERNAL_ERROR"}}
    return {"message": str(error), "extensions": {"code": "GRAPHQL_ERROR"}}
