"""The app's screens, one module each: what the user navigates between."""
