"""Supervision: specs (Supervisor, ChildSpec, Backoff), the running tree, SupervisorRef.

Runs on the host; never imports `_launcher`.
"""
