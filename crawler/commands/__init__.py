"""One module per command line command: `run(args) -> exit code`. The parsers are in `crawler.cli`.

Exit codes, shared by every command (README.md, "Exit codes").
"""

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_INTERRUPTED = 130
