"""The action server: rasa_sdk's own (`python -m rasa_sdk`) with Heard's changes installed
first (`actions.sdk_seam`). `python -m actions --actions actions --port 5055`."""

from rasa_sdk.__main__ import main

from actions import sdk_seam
from heard import settings

if __name__ == "__main__":
    settings.at_start()  # a wrong setting: exit code 2, the reasons on stderr
    sdk_seam.install()
    main()
