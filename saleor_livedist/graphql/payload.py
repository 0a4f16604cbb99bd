"""Mutations the Saleor way: the object plus `errors` [{field, code, message}], one place for access checks;
and the error a query field raises for a caller it is not for."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import graphene
from django.utils.translation import gettext as _

from ..exceptions import ServiceError


# Saleor's permission codes a mutation may need, with the permission a Saleor user holds for it and the
# sandbox's Django permission standing for it (as in console/access.py).
MANAGE_USERS = "MANAGE_USERS"
PERMISSIONS = {MANAGE_USERS: ("account.manage_users", "saleor_livedist.change_distributor")}
PERMISSION_NAMES = {MANAGE_USERS: _("Manage customers")}


class PermissionDenied(Exception):
    """A field the caller may not read (signed out, or not staff); the API answers PERMISSION_DENIED."""


class Error(graphene.ObjectType):
    field = graphene.String(description="The input field at fault, if any.")
    code = graphene.String(required=True, description="Stable error code.")
    message = graphene.String(required=True)


def payload_mutation(name: str, arguments: dict[str, Any], field: str, output: Any,
                     run: Callable[..., Any], staff: bool = False, permission: str | None = None) -> type:
    """A mutation returning `{<field>, errors}`. `run(context, **arguments)` does the work and raises
    ServiceError for anything the caller should be told. staff=True: staff only; permission: staff holding
    that Saleor permission (a key of PERMISSIONS) only; else any signed-in user."""
    staff = staff or permission is not None

    def mutate(root: Any, info: Any, **kwargs: Any) -> Any:
        context = info.context
        if staff and not context.is_staff:
            return cls(errors=[Error(code="PERMISSION_DENIED", message=_("staff only"))])
        if permission is not None and not context.can(permission):
            return cls(errors=[Error(code="PERMISSION_DENIED", message=_(
                "You need the permission “%(permission)s” for this.") % {
                "permission": PERMISSION_NAMES[permission]})])
        if not staff and not context.identity:
            return cls(errors=[Error(code="UNAUTHENTICATED", message=_("sign in first"))])
        try:
            return cls(**{field: run(context, **kwargs)}, errors=[])
        except ServiceError as exc:
            problems = getattr(exc, "problems", None)  # rule problems: one error each, in the loader's words
            if problems:
                return cls(errors=[Error(field=exc.field, code=p.code, message=p.render()) for p in problems])
            return cls(errors=[Error(field=exc.field, code=exc.code, message=exc.message)])

    cls = type(name, (graphene.Mutation,), {
        "Arguments": type("Arguments", (), arguments),
        field: output if isinstance(output, graphene.Scalar) else graphene.Field(output),
        "errors": graphene.List(graphene.NonNull(Error), required=True),
        "mutate": mutate,
    })
    return cls
