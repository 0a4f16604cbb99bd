"""The plugin's GraphQL API (graphene 2, Saleor's conventions)."""
