"""Peak memory of one command, measured from a small parent process.

``python -S benchmarks/rss_helper.py ARGV...`` runs ARGV (its stdout to
/dev/null) and prints ``{"peak_rss_kib", "anon_kib", "file_kib", "exit_code"}``.
It is a separate, small process because Linux carries the RSS of the process
that forks into the child's ``ru_maxrss``: the runner itself holds tens of
MB, which would be the floor of every figure.  Imports only what ``-S`` keeps.
"""

import json
import os
import sys
import time


def _parts(pid: int) -> tuple[int, int]:
    anon = file = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    anon = int(line.split()[1])
                elif line.startswith("RssFile:"):
                    file = int(line.split()[1])
    except OSError:
        pass
    return anon, file


def main() -> int:
    argv = sys.argv[1:]
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    anon = file = 0
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        a, f = _parts(pid)
        anon, file = max(anon, a), max(file, f)
        time.sleep(0.01)
    print(json.dumps({
        "peak_rss_kib": usage.ru_maxrss,
        "anon_kib": anon,
        "file_kib": file,
        "exit_code": os.waitstatus_to_exitcode(status),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
