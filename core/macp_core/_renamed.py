"""Parameters renamed to macp-sdk-python 0.22.0's names, whose old keyword keeps working.

Code written for 0.22.0 passes its names (``validate_session_id(sid=...)``); code written for
this SDK may still pass the earlier ones. The earlier keyword is mapped to the new name with
a DeprecationWarning; type checkers see only the new signature.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def renamed_keywords(**old_to_new: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: ``renamed_keywords(session_id="sid")`` accepts ``session_id=`` for ``sid=``."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        name = getattr(func, "__name__", "function")

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if kwargs:  # positional calls (the common case) pay one check
                for old, new in old_to_new.items():
                    if old in kwargs:
                        if new in kwargs:
                            raise TypeError(f"{name}() got both {new}= and its old name {old}=")
                        warnings.warn(
                            f"{name}({old}=...) is deprecated: pass {new}= (macp-sdk-python "
                            "0.22.0's name) or pass it positionally",
                            DeprecationWarning,
                            stacklevel=2,
                        )
                        kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper

    return decorate
