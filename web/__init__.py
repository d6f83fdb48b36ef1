"""Heard on the web: the socket.io widget channel, the agent console and the dashboard."""
