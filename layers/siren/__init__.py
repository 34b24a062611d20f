"""Siren's shared package: domain logic, ports and AWS adapters, shipped to Lambda as a layer."""

__version__ = "0.1.0"
