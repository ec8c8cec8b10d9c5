"""Server-rendered web interface (Jinja2 + HTMX) over the same services as the API."""
