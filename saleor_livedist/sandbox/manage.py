"""`python -m saleor_livedist.sandbox.manage <command>`: Django's manage.py for the sandbox project."""
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_livedist.sandbox.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
