# Copied by macp-codegen from templates/static/ (same path); edit it there.
"""Hand-written rule sets of the modes the local runtime serves."""
