"""What the host and the actors agree on: envelopes, codecs, the shared counter layout.

Stdlib only (both sides import it); never imports the host side or `_inside`.
"""
