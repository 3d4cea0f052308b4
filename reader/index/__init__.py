"""The search index over titles and abstracts, and what keeps it fast to open.

``tokenizer`` (words of a text, per chunk of papers) → ``postings`` (word → papers)
→ ``engine`` (a query → ranked papers, full and partial matches; ``forms``: the other
forms of a query word it also looks for) and ``highlight`` (why a paper matched);
``storage`` (the index as a file) → ``cache`` (files kept by the papers' content);
``segment`` (one digest file's papers and index as one checked file) → ``segments`` (kept
per file, found again by stat signature) → ``merge`` (several segments' indexes as one);
``build`` (the index built in a helper process while a big digest is parsed);
``similar`` (more like this: TF-IDF cosine; its stopwords are the small words of compounds).
"""
