"""Saleor's catalogue, as far as share links and the console need it: whether a product with a slug exists, and
the slugs staff pick a live's featured products from (the catalogue port, saleor_livedist/catalogue.py, on
Saleor's models)."""
from __future__ import annotations

from ..catalogue import CATALOGUE_PICK, use_catalogue


def product_exists(slug: str) -> bool:
    from saleor.product.models import Product

    return Product.objects.filter(slug=slug).exists()


def product_slugs(limit: int = CATALOGUE_PICK) -> list[str]:
    from saleor.product.models import Product

    return list(Product.objects.order_by("name", "slug").values_list("slug", flat=True)[:limit])


class SaleorCatalogue:
    def product_exists(self, slug: str) -> bool:
        return product_exists(slug)

    def product_slugs(self, limit: int = CATALOGUE_PICK) -> list[str]:
        return product_slugs(limit)


def use_saleor_catalogue() -> None:
    """Share links and featured products read Saleor's products from now on (AppConfig.ready, inside Saleor)."""
    use_catalogue(SaleorCatalogue)
