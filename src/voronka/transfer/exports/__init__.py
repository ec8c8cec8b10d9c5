"""Exports of every entity as CSV/XLSX, streamed: one module per group of entities.

``spec`` declares what an export is (columns, filters it takes, the resource whose EXPORT
policy applies); ``filters`` checks and resolves the caller's filter; ``stream`` reads rows a
page at a time with a server-side cursor; ``registry`` maps each entity to its spec. The
facade that writes files and audits them is ``voronka.transfer.exporter``.
"""
