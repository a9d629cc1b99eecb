"""The trimester budget round (issue 16): schools choose together which pitches get the joint money."""
