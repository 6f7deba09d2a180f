"""pytest_aioreq: a pytest plugin of fake HTTP servers, and hypothesis strategies for HTTP/1.1.

The hypothesis strategies live in `pytest_aioreq.strategies`; importing this package does not
import hypothesis.
"""
