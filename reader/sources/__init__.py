"""Where digests come from besides text files: the Hugging Face Hub, arXiv feeds, digest emails.

``formats`` reads the structured files (JSON lines, RSS/Atom, email) into papers with
their metadata; ``folder`` is the digests folder and its atomic writes; ``hub`` and
``arxiv`` fetch a day's list; ``fetch`` is the ``paper-reader fetch`` command.
"""
