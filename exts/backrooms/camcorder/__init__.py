"""The camcorder: a 1990s consumer camera between the render and the tape.

Optics (depth-of-field blur around an autofocus distance, lateral chromatic aberration, vignetting),
the exposure time (motion blur, two interlaced fields 1/60 s apart), the CCD (highlight bloom,
vertical smear, gain noise) and the automatics (exposure, white balance, focus servos with lag and
hunting). See docs/camcorder.md.
"""
