#!/bin/sh
# Re-extract the web interface's messages and merge them into the Dutch and French catalogues.
# Then translate the new empty or fuzzy entries in src/civicshield/service/pages/locale/*/LC_MESSAGES/messages.po;
# tests/ui/test_i18n.py fails while any message lacks a translation. No compile step: the service compiles
# the .po files in memory when it starts.
set -e
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
LOCALE=src/civicshield/service/pages/locale
"$BIN/pybabel" extract -F "$LOCALE/babel.cfg" -k translate:2 --no-location --sort-output \
    --project CivicShield --copyright-holder "CivicShield contributors" -o "$LOCALE/messages.pot" .
for lang in nl fr; do
    if [ -f "$LOCALE/$lang/LC_MESSAGES/messages.po" ]; then
        "$BIN/pybabel" update -i "$LOCALE/messages.pot" -d "$LOCALE" -l "$lang" --no-wrap --ignore-obsolete
    else
        "$BIN/pybabel" init -i "$LOCALE/messages.pot" -d "$LOCALE" -l "$lang" --no-wrap
    fi
done
