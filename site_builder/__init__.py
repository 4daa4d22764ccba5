"""site_builder: a public, verifiable download site from a private GitLab package registry."""

__version__ = "0.1.0"
