"""Put this folder first on PYTHONPATH to hide httptools: uvicorn then parses HTTP with h11."""
raise ImportError("httptools hidden by bench/pure_stack (pure-Python stack run)")
