"""Saleor's catalogue, as far as share links and the console need it: whether a product with a slug exists, and
the slugs staff pick a live's featured products from."""
from __future__ import annotations


def product_exists(slug: str) -> bool:
    from saleor.product.models import Product

    return Product.objects.filter(slug=slug).exists()


CATALOGUE_PICK = 500  # products offered to pick from; any other slug can still be typed


def product_slugs(limit: int = CATALOGUE_PICK) -> list[str]:
    from saleor.product.models import Product

    return list(Product.objects.order_by("name", "slug").values_list("slug", flat=True)[:limit])
