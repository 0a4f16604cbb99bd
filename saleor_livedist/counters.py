"""Fixed-window counters in Django's cache, shared by the endpoints' rate limits (viewer/ and click/): one Redis
round trip for many counters when the cache is Redis, else per-process counters as the local-memory cache keeps
them."""
from __future__ import annotations

import hashlib
import json
from typing import Any
from weakref import WeakKeyDictionary

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache


def add_counts(adds: dict[str, int], timeouts: dict[str, int]) -> dict[str, int]:
    """Add to each counter and return its new value."""
    if not adds:
        return {}
    cache = caches["default"]
    client = _redis_client(cache)
    if client is None:
        return {name: _add_in_cache(cache, name, n, timeouts[name]) for name, n in adds.items()}
    names = list(adds)
    keys = [cache.make_key(name) for name in names]
    counters = json.dumps([[key, adds[name], timeouts[name]] for key, name in zip(keys, names)])
    try:  # one command, one argument for the whole batch: redis-py packs and parses in Python, per argument
        replies = client.evalsha(COUNT_SCRIPT_SHA, 0, counters)
    except Exception as exc:
        if type(exc).__name__ != "NoScriptError":
            return _add_in_pipeline(client, keys, names, adds, timeouts)  # a server that refuses the script
        replies = client.eval(COUNT_SCRIPT, 0, counters)  # not loaded (yet, or any more): EVAL loads it
    return dict(zip(names, json.loads(replies)))


# ARGV[1]: [[counter, what to add, expiry in seconds], ...]; returns the totals, in order. Atomic in Redis. The
# counters are not declared as KEYS (one argument is what keeps the call cheap): a single Redis server, not a
# cluster (a server that refuses it gets the pipeline below).
COUNT_SCRIPT = """
local totals = {}
for i, counter in ipairs(cjson.decode(ARGV[1])) do
  local total = redis.call('INCRBY', counter[1], counter[2])
  if total == counter[2] then redis.call('EXPIRE', counter[1], counter[3]) end
  totals[i] = total
end
return cjson.encode(totals)
"""
COUNT_SCRIPT_SHA = hashlib.sha1(COUNT_SCRIPT.encode()).hexdigest()  # EVALSHA's name for it


def _add_in_pipeline(client: Any, keys: list[str], names: list[str], adds: dict[str, int],
                     timeouts: dict[str, int]) -> dict[str, int]:
    with client.pipeline(transaction=False) as pipe:  # one round trip
        for key, name in zip(keys, names):
            pipe.set(key, 0, ex=timeouts[name], nx=True)  # a new window's counter, with its expiry
            pipe.incrby(key, adds[name])
        replies = pipe.execute()
    return {name: int(total) for name, total in zip(names, replies[1::2])}


_clients: WeakKeyDictionary[Any, Any] = WeakKeyDictionary()  # Django's cache objects are per thread


def _redis_client(cache: Any) -> Any:
    """The Redis client under Django's cache, or None for another backend. Counters are plain integers
    under the cache's own key names, as its add() and incr() keep them, so both ways count alike. Kept per
    cache object: Django's RedisCache builds a new client (and copies its callbacks) on every call."""
    if cache not in _clients:
        client = None
        if isinstance(cache, RedisCache):
            client = cache._cache.get_client(write=True)
        elif hasattr(getattr(cache, "client", None), "get_client"):  # django-redis
            client = cache.client.get_client(write=True)
        _clients[cache] = client
    return _clients[cache]


def _add_in_cache(cache: Any, name: str, n: int, timeout: int) -> int:
    """The portable way (local memory, memcached): add, else incr; a counter may expire in between."""
    if cache.add(name, n, timeout=timeout):
        return n
    try:
        return cache.incr(name, n)
    except ValueError:  # expired between the two calls
        return n if cache.add(name, n, timeout=timeout) else cache.incr(name, n)
