"""The VHS decay pass: an analog tape model (YIQ, composite, colour-under) in Warp kernels."""
