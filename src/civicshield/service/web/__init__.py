"""What the API and the pages share: request dependencies (``Annotated`` aliases), error rendering,
security headers, body guards, rate limits, uploads and signing in."""
