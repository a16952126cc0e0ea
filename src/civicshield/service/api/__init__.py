"""HTTP API routers (``/api/v1``)."""
