"""CDN invalidators (CloudFront, Akamai): one file per CDN, all implementing ``Invalidator``."""
