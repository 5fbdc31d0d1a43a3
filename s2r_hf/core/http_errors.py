"""Connection-level failures of the HTTP client under huggingface_hub, whichever version is installed.

huggingface_hub 1.x talks through httpx and 2.x through httpx2; a dropped or refused connection surfaces as that
client's `TransportError`, not as a huggingface_hub error. Code that reaches the Hub catches these too, so a user sees
one clear message instead of a client library's traceback.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module


@cache
def transport_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = []
    for module_name in ("httpx2", "httpx"):
        try:
            errors.append(import_module(module_name).TransportError)
        except ImportError:
            continue
    return tuple(errors)
