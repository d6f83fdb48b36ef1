"""Heard's action server: resolutions over the shop's database, with the empathy policy.

`rasa run actions` imports every module of this package and registers its actions; the
first import also keeps personal data out of the action server's logs.
"""

from heard import logs

logs.install()
