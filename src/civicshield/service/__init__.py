"""The coordination service: a client of the library, and the only package that imports FastAPI,
SQLAlchemy or the job queue."""
