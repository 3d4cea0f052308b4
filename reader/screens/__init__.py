"""Screens of the paper-reader app."""
