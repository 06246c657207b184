#!/usr/bin/env bash
# System packages the tests and the local stack use (Debian/Ubuntu). Installs only what is missing.
#   activemq        the message broker (run with the project's own activemq.xml, never the system service)
#   mariadb-server  the MySQL-compatible result store
#   bubblewrap      a root for the Judge0 host's boot script in its test (the local sandbox no longer uses it)
#   python3-seccomp compiles the sandbox's syscall filter (libseccomp) on first use
#   default-jdk-headless, gcc, g++  compilers for the sandbox's Java, C and C++ submissions; gcc also builds the
#                   sandbox's native helper (the cell that starts every run) on first use
#   golang-go, rustc  compilers for the sandbox's Go and Rust submissions (/usr/bin/go, /usr/bin/rustc)
#   (package) shellcheck: lints the Judge0 host's shell scripts
#   cloud-init      validates the Judge0 host's cloud-config (cloud-init schema); never runs here
#   gettext-base    envsubst, which renders judge0.conf in the Judge0 host's boot script (run by its tests)
#   chromium        headless browser for the web page test (driven by playwright-core)
#   openssl         makes the local CA and the broker's/database's certificates (scripts/services/tls.ts)
#   libactivemq-java, python3-stomp  third-party clients of the interop tests (tests/interop: JMS over OpenWire, stomp.py)
#   unzip           the Judge0 test server unpacks multi-file programs with it, as Judge0 does
set -euo pipefail

packages=(activemq mariadb-server mariadb-client bubblewrap python3 python3-seccomp default-jdk-headless gcc g++ golang-go rustc shellcheck
  cloud-init gettext-base chromium openssl libactivemq-java python3-stomp unzip)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if ((${#missing[@]})); then
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  echo "Installing: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  # The packages' own services are never used (tests start private instances on loopback).
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
