"""Saleor's catalogue, as far as share links need it: whether a product with a slug exists."""
from __future__ import annotations


def product_exists(slug: str) -> bool:
    from saleor.product.models import Product

    return Product.objects.filter(slug=slug).exists()
