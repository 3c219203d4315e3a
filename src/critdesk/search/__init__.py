"""Similar-bug search: one engine behind every "have we seen this before?".

Modules: ``engine`` (``SimilarityEngine``, ``Doc``, ``Hit``: hybrid retrieval fused by rank),
``tokenize`` (terms for BM25), ``lexical`` (bm25s main index + delta), ``signatures``
(exception and stack fingerprints, shared with the log analysis), ``semantic`` (optional
embeddings), ``sync`` (``IndexSync``: the engine kept consistent with the database across
processes; ``bug_doc``), ``dbrd`` (duplicate-detection evaluation, ``critdesk eval dbrd``).

Wiring in an API process (one engine per process, shared by its threads)::

    engine = SimilarityEngine()                  # semantic when the model package imports
    sync = IndexSync(database, engine)
    sync.rebuild_in_background()                 # at start-up; searches work meanwhile
    ...
    sync.refresh()                               # before each search: one indexed query
    hits = engine.search(text, limit=10, public_only=viewer_is_customer,
                         exclude={f"bug:{current.id}"} if current else frozenset())

Every change to a bug that matters to search must bump ``bugs.updated_at`` (the bug service
does); ``refresh`` finds changes by it.
"""
