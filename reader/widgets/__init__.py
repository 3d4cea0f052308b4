"""Widgets of the paper-reader app."""
