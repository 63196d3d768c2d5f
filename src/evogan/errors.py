"""User-facing errors.

An ``EvoganError`` is a mistake in what the user gave us (a file, an option, a
config value). The CLI prints it as one line and exits non-zero, without a
traceback; anything else is a bug and keeps its traceback.
"""


class EvoganError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""
