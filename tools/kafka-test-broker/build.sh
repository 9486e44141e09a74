#!/usr/bin/env bash
# Builds `kafka-test-broker`: a Kafka-wire-protocol broker for tests, made of librdkafka's in-memory
# mock cluster (librdkafka 2.12.0, whose source ships inside the npm tarball of node-rdkafka@3.6.1),
# a few small patches (patch-librdkafka.mjs) and a wrapper that adds the admin APIs kafkajs uses (kmock.c).
# Needs node/npm, gcc and make; reaches only the npm registry. Prints the binary's path on its last line.
# Build output goes to $KAFKA_TEST_BROKER_HOME (default: ~/.cache/kafka-test-broker); nothing is written here.
# Cached: returns at once when the binary is newer than kmock.c and patch-librdkafka.mjs; the library is
# rebuilt only when patch-librdkafka.mjs changed (its sha256 is kept beside the build). Concurrent runs
# (several test runs sharing one cache) wait for each other on a lock.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
HOME_DIR="${KAFKA_TEST_BROKER_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-test-broker}"
BIN="$HOME_DIR/kafka-test-broker"
mkdir -p "$HOME_DIR"
fresh() { [ -x "$BIN" ] && [ "$BIN" -nt "$HERE/kmock.c" ] && [ "$BIN" -nt "$HERE/patch-librdkafka.mjs" ]; }
if fresh; then echo "$BIN"; exit 0; fi
if command -v flock >/dev/null; then
  exec 9>"$HOME_DIR/.build.lock"
  flock 9
  if fresh; then echo "$BIN"; exit 0; fi
fi
for tool in gcc make npm node tar; do
  command -v "$tool" >/dev/null || {
    echo "kafka-test-broker: building it needs $tool, which is not on PATH (on Debian/Ubuntu: apt-get install build-essential)." >&2
    echo "Or point the tests at another Kafka: KAFKA_BROKERS=host:port npm test" >&2
    exit 1
  }
done
R="$HOME_DIR/librdkafka"
PATCH_SHA="$(sha256sum "$HERE/patch-librdkafka.mjs" | cut -d' ' -f1)"
if [ ! -f "$R/src/librdkafka.a" ] || [ "$(cat "$R/.patch-sha256" 2>/dev/null)" != "$PATCH_SHA" ]; then
  echo "kafka-test-broker: building librdkafka's mock cluster in $HOME_DIR (once; about 30 s)" >&2
  rm -rf "$R" "$HOME_DIR/package"
  if ! TGZ=$(cd "$HOME_DIR" && npm pack node-rdkafka@3.6.1 --loglevel=error | tail -1) || [ -z "$TGZ" ]; then
    echo "kafka-test-broker: 'npm pack node-rdkafka@3.6.1' failed (it needs the npm registry)." >&2
    exit 1
  fi
  tar -xzf "$HOME_DIR/$TGZ" -C "$HOME_DIR" package/deps/librdkafka
  mv "$HOME_DIR/package/deps/librdkafka" "$R" && rm -rf "$HOME_DIR/package" "$HOME_DIR/$TGZ"
  node "$HERE/patch-librdkafka.mjs" "$R/src" >&2
  (cd "$R" && ./configure --disable-ssl --disable-gssapi --disable-zstd --disable-curl \
       --disable-lz4-ext --disable-zlib --disable-debug-symbols >/dev/null \
     && make -C src -j"$(nproc)" librdkafka.a >/dev/null)
  echo "$PATCH_SHA" >"$R/.patch-sha256"
fi
gcc -O2 -I"$R" -I"$R/src" -o "$BIN.tmp.$$" "$HERE/kmock.c" "$R/src/librdkafka.a" -lpthread -lm -ldl -lrt
mv "$BIN.tmp.$$" "$BIN"
echo "$BIN"
