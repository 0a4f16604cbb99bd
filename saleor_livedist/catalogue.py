"""The store's catalogue as far as share links and the console need it: whether a product with a slug exists,
and the slugs staff pick a live's featured products from. An adapter gives the port: Saleor's models inside
Saleor (saleor/catalog.py), the instance's GraphQL API in App mode (app_server/store_api.py); the sandbox has
none (any well-formed slug is a product there, and there is no list to pick from)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

CATALOGUE_PICK = 500  # products offered to pick from; any other slug can still be typed


class Catalogue(Protocol):
    def product_exists(self, slug: str) -> bool: ...

    def product_slugs(self, limit: int = CATALOGUE_PICK) -> list[str]: ...


_store_catalogue: Callable[[], Catalogue] | None = None


def use_catalogue(factory: Callable[[], Catalogue] | None) -> None:
    """Read the catalogue through `factory()`'s port from now on (None: back to the default)."""
    global _store_catalogue
    _store_catalogue = factory


def store_catalogue() -> Catalogue | None:
    """The catalogue port an adapter gave, else None (the sandbox: no catalogue)."""
    return _store_catalogue() if _store_catalogue is not None else None
