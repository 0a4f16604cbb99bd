"""Merchants' rule files: loading and validation with positions, the JSON Schema, compiling, backends, extensions."""
