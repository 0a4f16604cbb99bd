"""The Store on PostgreSQL, and the published-task overlay the rules are loaded with."""
