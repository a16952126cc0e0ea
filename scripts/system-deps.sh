#!/bin/sh
# Native libraries the Python wheels do not bundle: libchromaprint (audio fingerprints), and espeak-ng
# (synthetic speech examples for the speech-detector tests).
# Installs with apt when running as root on Debian/Ubuntu; otherwise prints what is missing.
set -e
if ldconfig -p 2>/dev/null | grep -q 'libchromaprint.so' && command -v espeak-ng >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing libchromaprint1 and espeak-ng"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libchromaprint1 espeak-ng >/dev/null \
      || (apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libchromaprint1 espeak-ng >/dev/null)
else
    echo "note: libchromaprint is missing; audio fingerprints will be unavailable (install libchromaprint1)" >&2
fi
