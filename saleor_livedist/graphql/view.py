"""Executing the API for an HTTP request: JSON in ({query, variables, operationName}), JSON out."""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from graphql.error import GraphQLSyntaxError
from graphql.language.parser import parse

from ..conf import get_setting
from ..identity import of_user
from .limits import QueryRefused, check
from .payload import PermissionDenied
from .schema import Context, schema

logger = logging.getLogger(__name__)

Authenticator = Callable[[HttpRequest], Any]


def execute(request: HttpRequest, authenticate: Authenticator) -> HttpResponse:
    """Every request that is not a well-formed GraphQL request, or is over a limit, is answered 4xx with a
    GraphQL error body (`errors`, no `data`) before anything runs; never a 500."""
    try:
        query, variables, operation = _read(request)
        document = parse(query)
        check(document, schema, variables)
    except BadRequest as exc:
        return _refused(exc.status, exc.code, str(exc))
    except QueryRefused as exc:
        return _refused(400, exc.code, str(exc))
    except GraphQLSyntaxError:
        pass  # graphql reports it below, with its position, as it always has
    except RecursionError:
        return _refused(400, "QUERY_TOO_DEEP", _("the query nests too deep to be read"))
    user = authenticate(request)
    active = user is not None and getattr(user, "is_active", False)
    context = Context(user=user if active else None, identity=of_user(user) if active else None,
                      is_staff=bool(active and getattr(user, "is_staff", False)), request=request)
    result = schema.execute(query, context_value=context,
                            variable_values=variables, operation_name=operation)
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [_error(e) for e in result.errors]
    return JsonResponse(payload, status=200)


class BadRequest(Exception):
    def __init__(self, status: int, code: str, message: str):
        self.status, self.code = status, code
        super().__init__(message)


def _read(request: HttpRequest) -> tuple[str, dict[str, Any], str | None]:
    """(query, variables, operationName) of a POSTed JSON body, or BadRequest saying what is wrong with it."""
    if request.method != "POST":
        raise BadRequest(405, "METHOD_NOT_ALLOWED", _("POST a JSON body {query, variables, operationName}"))
    limit = get_setting("GRAPHQL_MAX_BODY_BYTES")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    too_large = BadRequest(413, "BODY_TOO_LARGE", _("the body is over %(n)d bytes") % {"n": limit})
    if declared > limit:
        raise too_large
    try:
        raw = request.body
    except RequestDataTooBig:  # over Django's DATA_UPLOAD_MAX_MEMORY_SIZE
        raise too_large from None
    if len(raw) > limit:
        raise too_large
    try:
        body = json.loads(raw.decode("utf-8")) if raw else None
    except UnicodeDecodeError:
        raise BadRequest(400, "BAD_REQUEST", _("the body is not UTF-8")) from None
    except ValueError:
        raise BadRequest(400, "BAD_REQUEST", _("the body is not valid JSON")) from None
    except RecursionError:
        raise BadRequest(400, "BAD_REQUEST", _("the body nests too deep")) from None
    if not isinstance(body, dict):
        raise BadRequest(400, "BAD_REQUEST", _("the body must be a JSON object {query, variables, operationName}"))
    query, variables, operation = body.get("query"), body.get("variables"), body.get("operationName")
    if not isinstance(query, str) or not query.strip():
        raise BadRequest(400, "BAD_REQUEST", _("'query' must be a non-empty string"))
    if variables is not None and not isinstance(variables, dict):
        raise BadRequest(400, "BAD_REQUEST", _("'variables' must be an object or null"))
    if operation is not None and not isinstance(operation, str):
        raise BadRequest(400, "BAD_REQUEST", _("'operationName' must be a string or null"))
    if not _clean(body):
        raise BadRequest(400, "BAD_REQUEST", _("the body contains NUL characters or unpaired surrogates"))
    return query, variables or {}, operation


def _clean(value: Any, depth: int = 0) -> bool:
    """No text the database cannot store (NUL, lone surrogates) anywhere in the body."""
    if depth > MAX_VARIABLE_DEPTH:
        raise BadRequest(400, "BAD_REQUEST", _("the body nests more than %(n)d levels") % {"n": MAX_VARIABLE_DEPTH})
    if isinstance(value, str):
        return "\x00" not in value and not _SURROGATE.search(value)
    if isinstance(value, dict):
        return all(_clean(k, depth + 1) and _clean(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return all(_clean(v, depth + 1) for v in value)
    return True


MAX_VARIABLE_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


def _refused(status: int, code: str, message: str) -> JsonResponse:
    response = JsonResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status=status)
    if status == 405:
        response["Allow"] = "POST"
    return response


def _error(error: Exception) -> dict[str, Any]:
    original = getattr(error, "original_error", None)
    if isinstance(original, PermissionDenied):
        return {"message": str(original), "extensions": {"code": "PERMISSION_DENIED"}}
    if isinstance(original, ValueError):  # a bad argument, explained by the resolver
        return {"message": str(original), "extensions": {"code": "INVALID"}}
    if original is not None:  # a bug of ours: log it, do not leak internals
        logger.error("livedist GraphQL resolver failed", exc_info=original)
        return {"message": _("internal error"), "extensions": {"code": "INTERNAL_ERROR"}}
    return {"message": str(error), "extensions": {"code": "GRAPHQL_ERROR"}}
