"""Put this folder first on PYTHONPATH to hide uvloop: uvicorn then runs on plain asyncio."""
raise ImportError("uvloop hidden by bench/pure_stack (pure-Python stack run)")
