"""Helpers of the ``metadata`` analyzer, one metadata family or concern per module.

``fields`` is the shared shape (every family is read into flat ``Field`` records), ``image`` and ``container``
read them from files, ``exif`` / ``xmp`` / ``iptc`` parse one family each, ``payloads`` parses the parameter
blocks that generators write, ``names`` holds the tables of generator and editor names, ``camera`` checks
camera fields for consistency, and ``rules`` turns all of it into findings.
"""
