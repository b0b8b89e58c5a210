#!/usr/bin/env bash
# Re-vendors the web app's browser assets from their npm packages at the versions pinned in
# interfaces/web/package-lock.json. The copies are committed: serving and CI need no npm.
set -euo pipefail
cd "$(dirname "$0")/../interfaces/web"
npm ci --no-audit --no-fund --ignore-scripts
out=static/vendor
rm -rf "$out" && mkdir -p "$out/leaflet/images"
cp node_modules/htmx.org/dist/htmx.min.js "$out/htmx.min.js"
cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css "$out/leaflet/"
cp node_modules/leaflet/dist/images/*.png "$out/leaflet/images/"
cp node_modules/axe-core/axe.min.js "$out/axe.min.js"
# Each package's own LICENSE, named after it; a missing one fails the script (set -e).
for pkg in htmx.org leaflet axe-core; do
  cp "node_modules/$pkg/LICENSE" "$out/LICENSE.$pkg"
done
# axe.min.js bundles third-party code under their own licences, listed in this file.
cp node_modules/axe-core/LICENSE-3RD-PARTY.txt "$out/LICENSE-3RD-PARTY.axe-core.txt"
echo "vendored into interfaces/web/$out"
