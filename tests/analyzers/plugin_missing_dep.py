"""A plugin whose dependency is missing: loading it must show as a named failure."""

import definitely_not_installed_pkg  # type: ignore[import-not-found]  # noqa: F401
