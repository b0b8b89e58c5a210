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
for pkg in htmx.org leaflet axe-core; do
  cp "node_modules/$pkg/LICENSE"* "$out/LICENSE.$pkg" 2>/dev/null || true
done
echo "vendored into interfaces/web/$out"
