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


_SCRIPTS = {
    "bash": "# bash completion V2 for bbolt                               -*- shell-script -*-\n"
    "complete -W '{words}' bbolt\n",
    "fish": "# fish completion for bbolt                               -*- shell-script -*-\n"
    "complete -c bbolt -f -n '__fish_use_subcommand' -a '{words}'\n",
    "powershell": "# powershell completion for bbolt                               "
    "-*- shell-script -*-\n",
    "zsh": "#compdef bbolt\ncompdef _bbolt bbolt\n_bbolt() {{ compadd {words} }}\n",
}


def run_completion(inv: Invocation) -> None:
    """A small completion script for the command names (cobra's own is boilerplate)."""
    from .spec import ROOT

    words = " ".join(c.name for c in ROOT.subcommands)
    inv.out.text(_SCRIPTS[inv.path[-1]].format(words=words))
