"""The application core: an open library and every user action, for the CLI and the app alike.

Textual-free. The command line formats its answers; the app renders them.
"""
