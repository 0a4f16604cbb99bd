"""The Saleor adapter: the only package that imports saleor. Glue only: Saleor objects -> engine events."""
