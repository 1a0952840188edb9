"""Every knob of the audio node, declared once (``/backrooms/audio/<name>`` over OSC).

Wow and flutter are given as the peak deviation of the playback speed (in per cent, as a deck's
spec sheet gives them) and their rate in hertz, so a measured test tone can be checked against them.
"""

from __future__ import annotations

from backrooms.params import declare

NODE = "audio"

declare(NODE, "level", 0.8, "master gain of the soundtrack (0 = silent)", min=0.0, max=4.0)
declare(
    NODE,
    "mains",
    "auto",
    "mains frequency of the hum: auto follows decay.standard (pal = 50) or is 60 (NTSC)",
    choices=("auto", "60", "50"),
)
declare(NODE, "hum", 1.0, "gain of the panels' mains hum and its harmonics", min=0.0, max=4.0)
declare(NODE, "buzz", 0.5, "ballast buzz: the hum's upper harmonics", min=0.0, max=2.0)
declare(
    NODE, "hum_distance", 2.0, "distance at which a panel hums at full level", min=0.2, max=20.0, unit="m"
)
declare(NODE, "hum_radius", 14.0, "panels further than this are not heard", min=1.0, max=60.0, unit="m")
declare(NODE, "crackle", 1.0, "crackle and ticks of flickering panels", min=0.0, max=4.0)
declare(NODE, "room_tone", 1.0, "the room's low rumble", min=0.0, max=4.0)
declare(NODE, "steps", 1.0, "footsteps on carpet, timed to the walk", min=0.0, max=4.0)
declare(
    NODE, "width", 0.35, "stereo width of the mic: 0 = mono camcorder mic, 1 = full stereo", min=0.0, max=1.0
)
declare(NODE, "agc", 0.6, "camcorder automatic gain control: depth of its pumping", min=0.0, max=1.0)
declare(NODE, "agc_speed", 3.0, "how fast the AGC follows the level", min=1.5, max=30.0, unit="Hz")
declare(
    NODE,
    "speed",
    "auto",
    "tape speed of the linear audio track: auto follows decay.preset (worn = lp, found-footage = ep)",
    choices=("auto", "sp", "lp", "ep"),
)
declare(NODE, "hiss", 1.0, "tape hiss (x the speed's level)", min=0.0, max=8.0)
declare(NODE, "wow", 0.25, "wow: peak speed deviation", min=0.0, max=1.0, unit="%")
declare(NODE, "wow_rate", 0.7, "wow rate", min=0.2, max=4.0, unit="Hz")
declare(NODE, "flutter", 0.08, "flutter: peak speed deviation", min=0.0, max=0.5, unit="%")
declare(NODE, "flutter_rate", 9.0, "flutter rate", min=4.0, max=30.0, unit="Hz")
declare(
    NODE, "dropouts", 1.0, "how deep the tape's events (dropouts, tracking) cut the sound", min=0.0, max=4.0
)
