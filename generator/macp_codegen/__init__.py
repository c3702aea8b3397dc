"""macp-codegen: MACP mode .proto files in, a typed Python SDK out."""

__version__ = "0.1.0"
