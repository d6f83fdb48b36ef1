"""The action server: rasa_sdk's own (`python -m rasa_sdk`) with Heard's changes installed
first (`actions.sdk_seam`). `python -m actions --actions actions --port 5055`."""
from rasa_sdk.__main__ import main

from actions import sdk_seam

if __name__ == "__main__":
    sdk_seam.install()
    main()
