"""Article extraction: page bytes or a feed's HTML → Markdown body and metadata.

`article` holds the pure functions (they run in worker processes), `pool` the process pool the event loop
awaits. Importing this package, or `pool`, imports neither trafilatura nor lxml.
"""
