"""The service's domain: organizations, people and keys, items, cases, banks, webhooks and the audit log —
the rules and the one write path for each. Imports no web framework and no infrastructure module."""
