"""The backend contract suite: the same properties against every provider."""
