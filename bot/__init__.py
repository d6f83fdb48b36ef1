"""What plugs into Rasa: the emotion classifier, channels and the command line."""
