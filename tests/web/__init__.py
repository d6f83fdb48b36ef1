"""Tests of the web side: the widget, the agent console, the dashboard."""
