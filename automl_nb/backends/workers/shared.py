"""What both sides of a workers search share: thread caps, and the space as a name.

A worker process caps TensorFlow's thread pools to its share of the cores (set before
TensorFlow is imported, from :func:`thread_env`), and rebuilds the search's space from a
``"module:function"`` name, which :func:`resolve_space` makes and checks in the kernel.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from ...errors import SearchError


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def thread_env(threads: int) -> dict[str, str]:
    """Environment variables that cap the thread pools of TensorFlow and the BLAS/OpenMP below it.

    They must be set before TensorFlow is imported; the worker sets the
    ``tf.config.threading`` values as well.
    """
    n = str(max(1, int(threads)))
    return {
        "OMP_NUM_THREADS": n,
        "MKL_NUM_THREADS": n,
        "OPENBLAS_NUM_THREADS": n,
        "TF_NUM_INTRAOP_THREADS": n,
        "TF_NUM_INTEROP_THREADS": n,
    }


def resolve_space(space: Any, *, across_processes: bool) -> tuple[str | None, Any]:
    """The space as (a ``"module:function"`` reference or None, the object).

    A string names a build(hp) function to import. With ``across_processes`` (workers), a
    function must be importable by that name in another process: defined at the top level of
    a module other than ``__main__`` (a notebook's functions are not).
    """
    if space is None:
        return None, None
    if isinstance(space, str):
        return space, import_space(space)
    if not across_processes:
        return None, space
    module = getattr(space, "__module__", None)
    qualname = getattr(space, "__qualname__", "")
    if callable(space) and module and module != "__main__" and "<" not in qualname:
        try:
            found = import_space(f"{module}:{qualname}")
        except SearchError:
            found = None
        if found is space:
            return f"{module}:{qualname}", space
    raise SearchError(
        "workers=N needs the built-in space or a space importable as module:function "
        "(space='mymodule:build', with build(hp) defined at the top level of mymodule.py): "
        f"{_shown(space)} cannot be rebuilt in a worker process"
    )


def _shown(space: Any) -> str:
    name = getattr(space, "__qualname__", None) or type(space).__name__
    module = getattr(space, "__module__", None)
    return f"{module}.{name}" if module and module != "builtins" else name


def import_space(ref: str) -> Any:
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise SearchError(f"{ref!r} must name a function as module:function, such as 'mymodule:build'",
                          argument="space", value=ref)
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise SearchError(f"{ref!r}: module {module_name!r} cannot be imported ({exc})", argument="space",
                          value=ref) from None
    try:
        for part in attr.split("."):
            obj = getattr(obj, part)
    except AttributeError:
        raise SearchError(f"{ref!r}: module {module_name!r} has no {attr!r}", argument="space",
                          value=ref) from None
    if not callable(obj):
        raise SearchError(f"{ref!r} is not a function taking hp; got {type(obj).__name__}",
                          argument="space", value=ref)
    return obj
