"""The layers contract covers every module: a module left out of it could
import from any layer without `make lint` noticing."""

from __future__ import annotations

import re

from .conftest import ROOT


def test_every_module_is_in_a_layer() -> None:
    # (read without tomllib, which Python 3.10 lacks)
    text = (ROOT / "pyproject.toml").read_text()
    block = text.split("[[tool.importlinter.contracts]]", 1)[1].split("layers = [", 1)[1]
    layers = re.findall(r'^\s*"([^"]+)",', block.split("\n]", 1)[0], re.M)
    listed = {name for layer in layers for name in re.split(r"\s*[|:]\s*", layer)}
    modules = {f"pybbolt.{p.stem}" for p in (ROOT / "pybbolt").glob("*.py")
               if p.stem not in ("__init__", "__main__")}
    assert modules - listed == set()
    assert listed - modules == {"cli"}
