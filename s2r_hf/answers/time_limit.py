"""A time limit that works in any thread: `call_with_time_limit(seconds, func, *args)`.

sympy can run for minutes on an adversarial answer. `signal.alarm`, the usual bound, is refused outside the main thread
(a TRL reward function, a thread pool of graders), so the limit here is a timer that raises TimeoutError in the calling
thread when the time passes (`PyThreadState_SetAsyncExc`), in the main thread as in any other: no signal handler of the
host program is touched. The exception is delivered between two bytecodes of the running Python code, so it bounds
sympy's pure-Python work; a single long C call (a huge integer power) delays it until that call returns, which is why
the grader refuses such powers before evaluating them (s2r_hf.answers.equivalence).
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from typing import Any, TypeVar

Result = TypeVar("Result")


def _raise_in(thread_id: int, exception: type[BaseException] | None) -> None:
    """Schedule `exception` in the thread `thread_id` (None clears one scheduled and not yet raised)."""
    # ctypes passes None as a NULL pointer: that is how the C API clears a pending exception.
    target = None if exception is None else ctypes.py_object(exception)
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), target)


def call_with_time_limit(seconds: float, func: Callable[..., Result], *args: Any, **kwargs: Any) -> Result:
    """`func(*args, **kwargs)`, or TimeoutError raised in this thread once `seconds` have passed."""
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
