"""backrooms: endless Backrooms hallways, rendered, stylised and decayed like old VHS tape."""

__version__ = "0.1.0"
