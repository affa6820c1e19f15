"""The ``pybbolt`` command line: bbolt v1.5.0's ``bbolt`` tool, byte for byte.

Argument parsing (pflag rules), help texts and output formatting live here;
the engines behind the commands are in the :mod:`pybbolt` package.

Two parsers, one command tree.  The command tree is declared once
(:mod:`cli.spec` for bbolt's commands, :mod:`cli.extra` for the commands
bbolt lacks).  :mod:`cli.clickhelp` turns it into a click tree, which renders
``--help`` and answers shell completion (``pybbolt completion bash|fish|zsh``
prints the script; the script calls ``pybbolt`` back with
``_PYBBOLT_COMPLETE`` set).  The commands bbolt lacks are plain click
commands from end to end.  bbolt's own commands, though, run through the
lean pflag-compatible parser of :mod:`cli.flags` and :mod:`cli.main`, and
click is not imported on their way: it is both what byte-for-byte parity
with cobra's parsing and messages needs and what keeps start-up short.
``get`` and ``buckets`` are mostly interpreter start-up and imports, and
click would be the largest import of all.  Measured on the 2-core
development machine while it was shared with other jobs (load about 9; the
median of 20 interleaved runs of each): the bare interpreter 96 ms,
``python -c 'import click'`` 195 ms, ``pybbolt get`` on the bundled sample
260 ms, so importing click would add some 100 ms, nearly 40 %, to every
``get``; ``python -X importtime -c 'import click'`` gives click a
cumulative 24 ms at best and 60-140 ms under heavier load.
tests/test_startup.py keeps click (and construct) off that path.
"""
