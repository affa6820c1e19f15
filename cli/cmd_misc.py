"""version and completion."""

from __future__ import annotations

import platform
import sys

from .runtime import Invocation

# The version string of bbolt v1.5.0's version/version.go (docs/CLI.md §6.3).
BBOLT_VERSION = "1.4.0-alpha.0"

_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "i686": "386", "i386": "386"}


def run_version(inv: Invocation) -> None:
    machine = platform.machine().lower()
    arch = _ARCH.get(machine, machine or "unknown")
    system = sys.platform if sys.platform != "win32" else "windows"
    impl = platform.python_implementation().lower()
    inv.out.text(
        f"bbolt Version: {BBOLT_VERSION}\n"
        f"Go Version: {impl}{platform.python_version()}\n"
        f"Go OS/Arch: {system}/{arch}\n"
    )


def run_completion(inv: Invocation) -> None:
    """click's completion script of pybbolt for the shell (cobra's scripts are for
    bbolt and its hidden ``__complete`` protocol; no parity case pins them)."""
    from .clickhelp import completion_script

    inv.out.text(completion_script(inv.path[-1]))
