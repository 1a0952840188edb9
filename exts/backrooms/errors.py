"""Errors meant for users: one line that names the file, key, value or address at fault."""


class UserError(Exception):
    """Shown to the user as ``backrooms: error: <message>`` with exit code 2, never as a traceback."""
