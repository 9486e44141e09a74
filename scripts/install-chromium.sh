#!/bin/sh
# Installs Debian's `chromium` for the dashboard test (test/progress/dashboard.test.ts), which
# drives it headless through playwright-core.
#
# Contract: idempotent. When /usr/bin/chromium exists it installs nothing and prints the version
# found; otherwise it runs `apt-get update` and `apt-get install -y --no-install-recommends
# chromium` (as root, or through sudo when that works without a password) and prints what it
# installed. Exits non-zero, with the reason on standard error, when Chromium is missing afterwards.
set -eu

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  echo "install-chromium: $CHROMIUM is already installed ($("$CHROMIUM" --version 2>/dev/null || echo "version unknown")); nothing to do"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  AS_ROOT=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  AS_ROOT="sudo -n"
else
  echo "install-chromium: $CHROMIUM is missing and this user cannot install packages (not root, no password-less sudo); install Debian's chromium package: apt-get install -y chromium" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: $CHROMIUM is missing and there is no apt-get here; install Chromium so that $CHROMIUM runs it" >&2
  exit 1
fi

echo "install-chromium: $CHROMIUM is missing; running apt-get update and apt-get install -y --no-install-recommends chromium"
export DEBIAN_FRONTEND=noninteractive
$AS_ROOT apt-get update -q
$AS_ROOT apt-get install -y -q --no-install-recommends chromium

if [ ! -x "$CHROMIUM" ]; then
  echo "install-chromium: apt-get install chromium finished but $CHROMIUM is still missing" >&2
  exit 1
fi
echo "install-chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo "chromium, version unknown")"
