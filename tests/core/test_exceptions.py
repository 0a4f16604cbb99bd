"""The package's exceptions have one root, so a caller can catch everything it raises on purpose at once."""
from __future__ import annotations

import inspect

from saleor_livedist import exceptions


def test_every_exception_the_package_declares_derives_from_the_root() -> None:
    declared = [cls for _, cls in inspect.getmembers(exceptions, inspect.isclass)
                if issubclass(cls, BaseException) and cls.__module__ == exceptions.__name__]
    assert exceptions.ServiceError in declared and len(declared) >= 4
    assert [cls.__name__ for cls in declared if not issubclass(cls, exceptions.LiveDistError)] == []
