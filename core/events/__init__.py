"""Events: what apps publish after commit, and what streams read (Server-Sent Events)."""
