"""The ``pybbolt`` command line: bbolt v1.5.0's ``bbolt`` tool, byte for byte.

Argument parsing (pflag rules), help texts and output formatting live here;
the engines behind the commands are in the :mod:`pybbolt` package.
"""
