"""What lives on this computer: profiles, secrets, logs and the console's own files."""
