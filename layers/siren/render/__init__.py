"""What people read, rendered from templates: the status site and its Atom feed, the report email, the ack pages.

Pure: no I/O but reading the package's own template files (once per process), and no clock; every time shown
comes from the input, so the same input renders to the same bytes. The templates are Jinja2 files under
``templates/`` (shipped with the Lambda layer and the wheel), autoescaped for HTML and XML; data documents (the
Statuspage-compatible JSON API) are built as dicts and serialized, never templated.

Sits above siren.domain (it renders domain values) and below siren.app (the use cases call it).
"""
