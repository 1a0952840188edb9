"""Sound that belongs to the picture: the room's hum, the operator's steps, the camcorder's mic and
the linear audio track of the tape, made frame by frame from what the render product says."""
