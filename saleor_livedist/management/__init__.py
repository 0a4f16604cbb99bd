"""Django management commands (manage.py livedist_settle)."""
