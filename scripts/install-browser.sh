#!/bin/sh
# Debian's Chromium for the browser tests (tests/ui). Playwright's own browser download is not used: the
# tests launch /usr/bin/chromium through Playwright's executable_path. Installs with apt when running as root
# on Debian/Ubuntu; otherwise says what is missing (the UI tests then skip).
set -e
BROWSER=${CIVICSHIELD_CHROMIUM:-/usr/bin/chromium}
if [ -x "$BROWSER" ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium (browser tests)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null \
      || (apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null)
else
    echo "note: $BROWSER is missing; the browser tests in tests/ui will be skipped (apt-get install chromium)" >&2
fi
