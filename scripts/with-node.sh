#!/usr/bin/env bash
# `scripts/with-node.sh MAJOR COMMAND…`: runs COMMAND on Node MAJOR (from the npm registry's
# `node-linux-<arch>` package: binary and headers), whatever Node runs here. The native modules
# built against V8 (better-sqlite3, epoll) are rebuilt for its ABI in a hard-linked copy of the
# tree, so this checkout keeps its own (serialport's N-API prebuilds load on both).
# CI runs the whole suite this way on the images' Node (`npm run test:node22` = `npm test` on 22).
set -euo pipefail
major=${1:?usage: scripts/with-node.sh MAJOR COMMAND...}
shift
cd "$(dirname "$0")/.."
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
package="node-linux-$(node -p process.arch)"
npm install --prefix "$copy/node" --no-save --no-audit --no-fund "$package@$major" >/dev/null
nodedir="$copy/node/node_modules/$package"
# Hard links are safe: node-gyp's rebuild deletes build/ and writes new files, editing none in place.
cp -al . "$copy/tree"
cd "$copy/tree"
# Run by npm (`npm run test:node22`), node-gyp would take npm's own `nodedir` (this machine's
# Node headers, /usr) from npm_config_nodedir over --nodedir: point both at the fetched Node.
export npm_config_nodedir="$nodedir"
gyp=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")/node_modules/node-gyp/bin/node-gyp.js
for module in better-sqlite3 epoll; do
  log="$copy/rebuild-$module.log"
  (cd "node_modules/$module" && "$nodedir/bin/node" "$gyp" rebuild --release -j 2 --nodedir="$nodedir" >"$log" 2>&1) ||
    { cat "$log" >&2; echo "rebuilding $module for Node $major failed" >&2; exit 1; }
done
# A module built against other headers would fail every test that opens a database: check once here.
"$nodedir/bin/node" -e "new (require('better-sqlite3'))(':memory:'); require('epoll')" ||
  { echo "the native modules rebuilt for Node $major do not load on it" >&2; exit 1; }
echo "on Node $("$nodedir/bin/node" --version): $*"
PATH="$nodedir/bin:$PATH" "$@"
