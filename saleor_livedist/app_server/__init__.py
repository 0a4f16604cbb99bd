"""The package as a standalone Saleor App (App mode): the manifest with webhooks, the install token per Saleor
instance, signed webhook deliveries into the inbox, each instance's tables in its own PostgreSQL schema."""
