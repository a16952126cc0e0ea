#!/bin/sh
# Programs the benchmarks drive from outside Python: wrk (HTTP load for bench/bench_service_lookup.py).
# Installs with apt when running as root on Debian/Ubuntu; otherwise says what is missing.
set -e
if command -v wrk >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing wrk (HTTP load for the service benchmarks)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null \
      || (apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null)
else
    echo "note: wrk is missing; bench/bench_service_lookup.py needs it (apt-get install wrk)" >&2
    exit 1
fi
