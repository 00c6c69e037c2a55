#!/usr/bin/env bash
# Installs the tools the tests drive, when they are missing: Debian packages, so this needs root (it uses
# sudo when it is not root and sudo is there). Run by `npm run test:tools`, before `npm test`, and by CI.
set -euo pipefail

# command  package  (a file to look for instead of a command, for what is not a command)
tools=(
  "curl curl"
  "openssl openssl"
  "testssl testssl.sh"
  "promtool prometheus"
  "chromium chromium"
  "redis-server redis-server"
  "nginx nginx-light"
  "/usr/lib/nginx/modules/ngx_stream_module.so libnginx-mod-stream"
  "haproxy haproxy"
  "caddy caddy"
  "apache2 apache2"
  "pgrep procps"
  "python3 python3"
)

have() {
  case "$1" in
    /*) [ -e "$1" ] ;;
    # Daemons live in /usr/sbin, which is not on every user's PATH.
    *) command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ] ;;
  esac
}

need=()
for entry in "${tools[@]}"; do
  read -r tool package <<<"$entry"
  have "$tool" || need+=("$package")
done

if [ ${#need[@]} -eq 0 ]; then
  echo "test:tools: every tool the tests drive is installed."
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "test:tools: missing ${need[*]}; install them as root: apt-get install --no-install-recommends ${need[*]}" >&2
    exit 1
  fi
fi

echo "test:tools: installing ${need[*]} (Debian packages)"
# The tests start nginx, HAProxy, Caddy, Apache and Redis themselves on free loopback ports; the packages'
# own services must not start (and take ports 80 and 6379) on install. policy-rc.d is Debian's switch for that.
policy=/usr/sbin/policy-rc.d
own_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod 755 "$policy"
  own_policy=true
fi
cleanup() { if $own_policy; then "${sudo[@]}" rm -f "$policy"; fi; }
trap cleanup EXIT

"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "test:tools: done."
