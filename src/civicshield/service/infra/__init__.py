"""Infrastructure: the database engine and migrations, the queue (Celery jobs), blob storage, outgoing
webhooks and mail, logs and metrics, backups and retention. Domain modules never import these."""
