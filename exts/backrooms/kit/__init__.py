"""backrooms.kit: the Omniverse Kit host, and the only package that imports ``omni.*``.

Kit enables the extension by importing this module and starting the ``omni.ext.IExt`` subclasses
it finds here. Outside Kit the Kit-free submodules (settings, chain, live, output, osc, walk) import
without Omniverse, so they are tested like the rest of the package.
"""

try:
    import omni.ext  # noqa: F401  (present only inside Kit)
except ModuleNotFoundError:
    pass
else:
    from backrooms.kit.extension import BackroomsExtension

    __all__ = ["BackroomsExtension"]
