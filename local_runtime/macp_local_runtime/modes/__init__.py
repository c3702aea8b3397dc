"""Hand-written rule sets of the modes the local runtime serves."""
