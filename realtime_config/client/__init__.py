"""The HTTP client (sync and async) that sends compiled bodies to the Realtime API."""
