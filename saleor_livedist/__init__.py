"""saleor-livedist: live + distribution selling for Saleor stores (the Django app and Saleor plugin)."""
