"""sitegen: static site generator and CDN publisher for public emergency alerts."""

__version__ = "0.1.0"
