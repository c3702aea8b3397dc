# Copied by macp-codegen; edit templates/static/macp_sdk/local_runtime/modes/__init__.py instead.
"""Hand-written rule sets of the modes the local runtime serves."""
