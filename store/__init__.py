"""The shop database's one owner: its tables, the writes to them and their migrations."""
