"""Protecting the people and bodies deepfakes target: who is protected (``Watchlist``) and the checks that
find them in an item — their names (``names``) and lookalikes of their domains (``domains``) in the links an
item carries (``links``). The ``impersonation`` analyzer runs these checks in every analysis.
"""

from civicshield.protection.domains import DomainCheck, Lookalikes
from civicshield.protection.names import NameHit, find_names
from civicshield.protection.watchlist import ProtectedDomain, ProtectedPerson, Watchlist

__all__ = [
    "DomainCheck",
    "Lookalikes",
    "NameHit",
    "ProtectedDomain",
    "ProtectedPerson",
    "Watchlist",
    "find_names",
]
