"""Where the bundle goes: S3 or a local folder that behaves like a bucket."""
