#!/bin/sh
# Refresh the vendored htmx (src/civicshield/service/pages/static/vendor/) from the npm package.
# The result is committed, so running the service needs no Node and no front-end build; run this only to
# upgrade htmx (pass a version: scripts/vendor-htmx.sh 2.0.4; default: the latest 2.x).
set -e
VERSION=${1:-2}
DEST=$(cd "$(dirname "$0")/.." && pwd)/src/civicshield/service/pages/static/vendor
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
TARBALL=$(npm pack --silent "htmx.org@$VERSION")
tar -xzf "$TARBALL"
mkdir -p "$DEST"
cp package/dist/htmx.min.js "$DEST/htmx.min.js"
cp package/LICENSE "$DEST/htmx.LICENSE"
NAME_VERSION=$(node -p "require('./package/package.json').version")
printf 'htmx.org %s from npm (%s), license 0BSD (htmx.LICENSE)\n' "$NAME_VERSION" "$TARBALL" > "$DEST/htmx.VERSION"
echo "vendored htmx $NAME_VERSION into $DEST"
