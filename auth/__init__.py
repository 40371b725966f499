"""Accounts, roles, login rate limiting and the audit log.

This package never imports streamlit or pydeck: ``ui/access.py`` wraps it. Modules:

- ``roles``: who a viewer is and what that role may see (:class:`Viewer`, :func:`parse_role`).
- ``users``: the local accounts file with argon2id hashes, and its command line
  (``python -m auth.users add NAME --role ROLE``).
- ``audit``: the append-only JSON-lines audit log.
- ``ratelimit``: failed-login counting and lockout per username.
"""
