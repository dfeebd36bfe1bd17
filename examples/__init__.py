"""Example programs; the test suite runs every one of them."""
