"""`python -m saleor_livedist` is the `livedist` command."""
import sys

from .cli import main

sys.exit(main())
