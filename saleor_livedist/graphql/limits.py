"""Limits on one GraphQL request, checked on the parsed document before anything runs: depth, aliases, field
count, an estimated cost, and page sizes (`first`/`last`). Values: settings GRAPHQL_MAX_* (conf.py); the
rules in words: docs/saleor.md, "Limits"."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from graphql import GraphQLList, GraphQLNonNull
from graphql.language import ast

from ..conf import get_setting

UNPAGED_LIST_COST = 20  # what an unpaginated list (downline, replays, ...) is counted as: a guess, not a bound
INTROSPECTION_MAX_LISTS = 3  # nested lists in an introspection selection: types > fields > args, never deeper


class QueryRefused(Exception):
    """A request over a limit; nothing was executed. `code` is stable for clients."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class Limits:
    depth: int
    aliases: int
    fields: int
    cost: int
    page: int

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(depth=get_setting("GRAPHQL_MAX_DEPTH"), aliases=get_setting("GRAPHQL_MAX_ALIASES"),
                   fields=get_setting("GRAPHQL_MAX_FIELDS"), cost=get_setting("GRAPHQL_MAX_COST"),
                   page=get_setting("GRAPHQL_MAX_PAGE"))


@dataclass
class _Walk:
    """The document's figures, each fragment counted once however often it is spread (a fragment that spreads
    another twice, and so on, cannot make the walk exponential)."""

    schema: Any
    limits: Limits
    variables: dict[str, Any]
    fragments: dict[str, ast.FragmentDefinition]
    aliases: int = 0
    fields: int = 0
    seen: dict[str, tuple[int, int]] = field(default_factory=dict)  # fragment -> (depth, cost)
    active: set[str] = field(default_factory=set)  # fragments being walked: a cycle (invalid) stops there

    def selections(self, selection_set: Any, parent: Any, lists: int, introspection: bool) -> tuple[int, int]:
        """(depth, cost) of a selection set on `parent` (a GraphQL type, or None when unknown)."""
        depth = cost = 0
        for node in selection_set.selections if selection_set is not None else ():
            if isinstance(node, ast.Field):
                d, c = self.field(node, parent, lists, introspection)
            elif isinstance(node, ast.InlineFragment):
                on = self.schema.get_type(node.type_condition.name.value) if node.type_condition else parent
                d, c = self.selections(node.selection_set, on, lists, introspection)
            else:
                d, c = self.spread(node.name.value, lists, introspection)
            depth, cost = max(depth, d), cost + c
        return depth, cost

    def spread(self, name: str, lists: int, introspection: bool) -> tuple[int, int]:
        fragment = self.fragments.get(name)
        if fragment is None or name in self.active:
            return 0, 0  # unknown or cyclic: validation reports it, nothing runs
        key = f"{name}:{lists}:{introspection}"
        if key not in self.seen:
            self.active.add(name)
            on = self.schema.get_type(fragment.type_condition.name.value)
            self.seen[key] = self.selections(fragment.selection_set, on, lists, introspection)
            self.active.discard(name)
        return self.seen[key]

    def field(self, node: ast.Field, parent: Any, lists: int, introspection: bool) -> tuple[int, int]:
        self.fields += 1
        if node.alias is not None:
            self.aliases += 1
        name = node.name.value
        introspection = introspection or name.startswith("__")
        definition = _field(parent, name)
        kind = _unwrap(definition.type) if definition is not None else None
        is_list = kind is not None and kind[1]
        multiplier = 1
        if is_list:
            lists += 1
            if introspection and lists > INTROSPECTION_MAX_LISTS:
                raise QueryRefused("QUERY_TOO_DEEP", _(
                    "introspection selections may nest at most %(n)d lists (types, fields, args)")
                    % {"n": INTROSPECTION_MAX_LISTS})
            multiplier = 1 if introspection else self.page_size(node, definition)
        else:
            self.page_size(node, definition)  # a `first` on a single object is checked all the same
        depth, cost = self.selections(node.selection_set, kind[0] if kind else None, lists, introspection)
        return depth + 1, 1 + multiplier * cost

    def page_size(self, node: ast.Field, definition: Any) -> int:
        """The rows a list field may return: its `first`/`last`, checked against the cap."""
        size = None
        for argument in node.arguments or ():
            if argument.name.value not in ("first", "last"):
                continue
            value = self.value(argument.value)
            if value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > self.limits.page:
                raise QueryRefused("PAGE_TOO_LARGE", _(
                    "'%(arg)s' on '%(field)s' must be a whole number from 0 to %(max)d, got %(value)s") % {
                    "arg": argument.name.value, "field": node.name.value, "max": self.limits.page,
                    "value": _shown(value)})
            size = max(size or 0, value)
        if size is not None:
            return max(size, 1)
        paged = definition is not None and any(a in definition.args for a in ("first", "last"))
        return 50 if paged else UNPAGED_LIST_COST  # 50: the resolvers' default page

    def value(self, node: Any) -> Any:
        if isinstance(node, ast.Variable):
            return self.variables.get(node.name.value)
        if isinstance(node, ast.IntValue):
            try:
                return int(node.value)
            except ValueError:  # over Python's digit limit: certainly too large
                return node.value
        if isinstance(node, (ast.StringValue, ast.FloatValue)):
            return node.value
        return None


def _field(parent: Any, name: str) -> Any:
    """The field's definition on its parent type (None: unknown here; validation will say so)."""
    from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

    if name in ("__schema", "__type"):
        return {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}[name]
    fields = getattr(parent, "fields", None)
    return fields.get(name) if fields else None


def _unwrap(kind: Any) -> tuple[Any, bool]:
    """(named type, whether a list wraps it)."""
    is_list = False
    while isinstance(kind, (GraphQLNonNull, GraphQLList)):
        is_list = is_list or isinstance(kind, GraphQLList)
        kind = kind.of_type
    return kind, is_list


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check(document: ast.Document, schema: Any, variables: dict[str, Any], limits: Limits | None = None) -> None:
    """Raise QueryRefused if any operation of the document is over a limit."""
    limits = limits or Limits.from_settings()
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, ast.FragmentDefinition)}
    walk = _Walk(schema, limits, variables, fragments)
    depth = cost = 0
    for definition in document.definitions:
        if isinstance(definition, ast.OperationDefinition):
            root = {"query": schema.get_query_type(), "mutation": schema.get_mutation_type(),
                    "subscription": schema.get_subscription_type()}.get(definition.operation)
            d, c = walk.selections(definition.selection_set, root, 0, False)
            depth, cost = max(depth, d), max(cost, c)
    if walk.aliases > limits.aliases:
        raise QueryRefused("TOO_MANY_ALIASES", _("the query uses %(n)d aliases; at most %(max)d are allowed")
                           % {"n": walk.aliases, "max": limits.aliases})
    if walk.fields > limits.fields:
        raise QueryRefused("TOO_MANY_FIELDS", _("the query selects %(n)d fields; at most %(max)d are allowed")
                           % {"n": walk.fields, "max": limits.fields})
    if depth > limits.depth:
        raise QueryRefused("QUERY_TOO_DEEP", _("the query nests %(depth)d levels deep; at most %(max)d are "
                                               "allowed") % {"depth": depth, "max": limits.depth})
    if cost > limits.cost:
        raise QueryRefused("QUERY_TOO_COSTLY", _(
            "the query's estimated cost is %(cost)d; at most %(max)d is allowed (a list field counts as its "
            "page size times its selections: ask for fewer rows or fewer fields)") % {"cost": cost, "max": limits.cost})
