"""A time limit for lighteval's math parsing and comparison that works in any thread: `install()`.

lighteval 0.13 bounds each latex2sympy parse and sympy comparison with `lighteval.utils.timeout.timeout`, which on
Unix sets `signal.alarm`: Python allows signal handlers in the main thread only, so every call from another thread (a
TRL reward function, a thread pool of graders) fails with "signal only works in main thread of the main interpreter".

`thread_safe_timeout` keeps lighteval's alarm in the main thread and, elsewhere, arms a timer that raises TimeoutError
in the calling thread when the limit passes (`PyThreadState_SetAsyncExc`). Both are delivered between two bytecodes
of the running Python code, so they bound sympy's pure-Python work the same way; a single long C call (a huge integer
power) delays either until it returns. lighteval catches the TimeoutError as it does the alarm's: the answer is
graded wrong, as in the evaluation tasks.

`install()` puts it in place of lighteval's decorator in the modules that use it, including the method that
`dynamic_metrics` decorated when it was imported. It changes nothing in the main thread.
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading
from collections.abc import Callable
from typing import Any

_installed = False
_install_lock = threading.Lock()


def _raise_in(thread_id: int, exception: type[BaseException] | None) -> None:
    """Schedule `exception` in the thread `thread_id` (None clears one scheduled and not yet raised)."""
    # ctypes passes None as a NULL pointer: that is how the C API clears a pending exception.
    target = None if exception is None else ctypes.py_object(exception)
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), target)


def _off_main_thread(seconds: float, func: Callable, args: tuple, kwargs: dict) -> Any:
    caller = threading.get_ident()
    lock = threading.Lock()
    state = {"done": False, "fired": False}

    def expire() -> None:
        with lock:
            if not state["done"]:
                state["fired"] = True
                _raise_in(caller, TimeoutError)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        return func(*args, **kwargs)
    finally:
        with lock:
            state["done"] = True
            if state["fired"]:
                # Fired as the call ended: the exception may still be pending; it must not surface in the caller.
                _raise_in(caller, None)
        timer.cancel()


def thread_safe_timeout(timeout_seconds: int = 10, *, main_thread_timeout: Callable | None = None) -> Callable:
    """A drop-in for `lighteval.utils.timeout.timeout`: lighteval's own (`main_thread_timeout`) in the main thread,
    a timer raising TimeoutError in the caller's thread elsewhere."""

    def decorator(func: Callable) -> Callable:
        in_main = main_thread_timeout(timeout_seconds)(func) if main_thread_timeout is not None else None

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if in_main is not None and threading.current_thread() is threading.main_thread():
                return in_main(*args, **kwargs)
            return _off_main_thread(timeout_seconds, func, args, kwargs)

        return wrapper

    return decorator


def _signal_wrapped_function(wrapper: Callable) -> Callable | None:
    """The function lighteval's decorator wrapped (it keeps no `__wrapped__`): the `func` of the wrapper's closure."""
    code = getattr(wrapper, "__code__", None)
    if code is None or "func" not in code.co_freevars or wrapper.__closure__ is None:
        return None
    return wrapper.__closure__[code.co_freevars.index("func")].cell_contents


def install() -> None:
    """Use `thread_safe_timeout` wherever lighteval's math metrics use their signal-based timeout (idempotent)."""
    global _installed
    with _install_lock:
        if _installed or os.name != "posix":  # elsewhere lighteval times out with processes, from any thread
            return
        import lighteval.utils.timeout as lighteval_timeout

        original = lighteval_timeout.timeout
        replacement = functools.partial(thread_safe_timeout, main_thread_timeout=original)
        lighteval_timeout.timeout = replacement
        # The modules that did `from lighteval.utils.timeout import timeout` call it at grading time (parsers,
        # comparisons); dynamic_metrics also decorated a method when imported, which is wrapped again here.
        from lighteval.metrics import dynamic_metrics
        from lighteval.metrics.utils import extractive_match_utils, math_comparison

        extractive_match_utils.timeout = replacement
        math_comparison.timeout = replacement
        dynamic_metrics.timeout = replacement
        metric_class = dynamic_metrics.MultilingualExtractiveMatchMetric
        method = metric_class.__dict__.get("add_to_specifics_with_timeout")
        # Already ours when dynamic_metrics was first imported after the patch above (functools.wraps marks it).
        inner = None if method is None or hasattr(method, "__wrapped__") else _signal_wrapped_function(method)
        if inner is not None:
            metric_class.add_to_specifics_with_timeout = replacement(2)(inner)  # lighteval's own limit: 2 s
        _installed = True
