"""Channel adapters: each only translates events in and delivers replies out."""
