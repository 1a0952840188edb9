"""Live control: OSC (UDP/TCP), OSCQuery, MIDI, a web preview, and the real-time frame loop they feed."""
