#!/usr/bin/env bash
# `npm run test:node22`: the unit tests on Node 22, the LTS the gateway and cloud images run,
# whatever Node runs here. Node 22 (binary and headers) comes from the npm registry's
# `node-linux-<arch>` package; the native modules built against V8 (better-sqlite3, epoll) are
# rebuilt for its ABI in a hard-linked copy of the tree, so this checkout keeps its own
# (serialport's N-API prebuilds load on both).
set -euo pipefail
cd "$(dirname "$0")/.."
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
package="node-linux-$(node -p process.arch)"
npm install --prefix "$copy/node22" --no-save --no-audit --no-fund "$package@22" >/dev/null
nodedir="$copy/node22/node_modules/$package"
# Hard links are safe: node-gyp's rebuild deletes build/ and writes new files, editing none in place.
cp -al . "$copy/tree"
cd "$copy/tree"
gyp=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")/node_modules/node-gyp/bin/node-gyp.js
for module in better-sqlite3 epoll; do
  (cd "node_modules/$module" && "$nodedir/bin/node" "$gyp" rebuild --release -j 2 --nodedir="$nodedir" >/dev/null)
done
echo "unit tests on $("$nodedir/bin/node" --version)"
PATH="$nodedir/bin:$PATH" npx vitest run --project unit "$@"
