#!/usr/bin/env python
"""Bounded closed-loop HTTP load generator (asyncio + aiohttp), loopback only.

Every run is bounded twice: by --count requests AND by --max-seconds wall time
(no new request is started after the deadline). Prints one JSON line.

Product-neutral: the URL/body/headers are arguments, so the same script can be
pointed at another helpdesk. `--login-django PATH` performs one Django form
login (session cookie + CSRF header reused by all clients) for django-helpdesk.

  {n}   in --path or --body is replaced by the global request number.
"""

import argparse
import asyncio
import ipaddress
import json
import statistics
import sys
import time
from urllib.parse import urlsplit

import aiohttp


def pct(sorted_vals, p):
    if not sorted_vals:
        return None
    k = max(0, min(len(sorted_vals) - 1, round(p / 100 * len(sorted_vals) + 0.5) - 1))
    return sorted_vals[k]


async def django_login(session, base, path, user, password):
    async with session.get(base + path) as r:
        await r.read()
    token = None
    for c in session.cookie_jar:
        if c.key == "csrftoken":
            token = c.value
    data = {"username": user, "password": password, "csrfmiddlewaretoken": token}
    async with session.post(
        base + path, data=data, allow_redirects=False, headers={"Referer": base + path}
    ) as r:
        await r.read()
        if r.status not in (302, 303):
            raise SystemExit(f"login failed: HTTP {r.status}")
    for c in session.cookie_jar:
        if c.key == "csrftoken":
            token = c.value
    return {"X-CSRFToken": token}


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="http://127.0.0.1:8077")
    ap.add_argument("--path", required=True)
    ap.add_argument("--method", default="GET")
    ap.add_argument("--body", help="JSON body template; {n} substituted")
    ap.add_argument("--header", action="append", default=[], help="'Name: value'")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=0, help="untimed requests first")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--max-seconds", type=float, default=120.0)
    ap.add_argument("--timeout", type=float, default=60.0, help="per request")
    ap.add_argument("--expect", default="200,201")
    ap.add_argument("--login-django", metavar="PATH")
    ap.add_argument("--user", default="bench")
    ap.add_argument("--password", default="bench-pass-123")
    ap.add_argument("--label", default="")
    a = ap.parse_args()

    host = urlsplit(a.base).hostname
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise SystemExit("refusing non-loopback target")
    expect = {int(x) for x in a.expect.split(",")}
    headers = dict(h.split(": ", 1) for h in a.header)
    if a.body:
        headers.setdefault("Content-Type", "application/json")

    conn = aiohttp.TCPConnector(limit=a.concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=a.timeout)
    async with aiohttp.ClientSession(
        connector=conn, timeout=timeout, cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as s:
        if a.login_django:
            headers.update(await django_login(s, a.base, a.login_django, a.user, a.password))

        lat, codes, errors = [], {}, []
        counter = {"next": 0}
        total = a.warmup + a.count
        deadline = [None]

        async def one(n, record):
            path = a.path.replace("{n}", str(n))
            body = a.body.replace("{n}", str(n)) if a.body else None
            t0 = time.perf_counter()
            try:
                async with s.request(
                    a.method, a.base + path, data=body, headers=headers, allow_redirects=False
                ) as r:
                    await r.read()
                    st = r.status
            except Exception as e:
                st = type(e).__name__
            dt = time.perf_counter() - t0
            if record:
                codes[str(st)] = codes.get(str(st), 0) + 1
                if st in expect:
                    lat.append(dt)
                elif len(errors) < 3:
                    errors.append(str(st))

        async def worker():
            while True:
                n = counter["next"]
                if n >= total:
                    return
                if n >= a.warmup and time.perf_counter() > deadline[0]:
                    return
                counter["next"] += 1
                await one(n, n >= a.warmup)

        # warm-up (untimed) then the measured phase with the same workers
        if a.warmup:
            deadline[0] = float("inf")
            saved, total = total, a.warmup
            await asyncio.gather(*(worker() for _ in range(a.concurrency)))
            total = saved
        t_start = time.perf_counter()
        deadline[0] = t_start + a.max_seconds
        await asyncio.gather(*(worker() for _ in range(a.concurrency)))
        wall = time.perf_counter() - t_start

    lat.sort()
    done = sum(codes.values())
    out = {
        "label": a.label,
        "method": a.method,
        "path": a.path[:120],
        "concurrency": a.concurrency,
        "requested": a.count,
        "completed": done,
        "ok": len(lat),
        "codes": codes,
        "wall_s": round(wall, 3),
        "rps_ok": round(len(lat) / wall, 2) if wall else None,
        "p50_ms": round(pct(lat, 50) * 1000, 2) if lat else None,
        "p90_ms": round(pct(lat, 90) * 1000, 2) if lat else None,
        "p99_ms": round(pct(lat, 99) * 1000, 2) if lat else None,
        "max_ms": round(lat[-1] * 1000, 2) if lat else None,
        "mean_ms": round(statistics.fmean(lat) * 1000, 2) if lat else None,
        "time_bound_hit": done < a.count,
        "sample_errors": errors,
    }
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
