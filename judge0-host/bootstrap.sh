#!/bin/bash
# Brings Judge0 up on this host. Runs at every boot (judge0-bootstrap.service) and is idempotent:
#  1. Judge0's isolate needs cgroup v1: if the kernel booted with cgroup v2, switch GRUB to v1 and
#     reboot, once (a marker file stops a reboot loop if the switch did not take).
#  2. Fetch the secrets from SSM, render judge0.conf (render-conf.sh: quoted, readable by Judge0's uid 1000
#     only), start the containers, wait for the API.
set -euo pipefail

ENVIRONMENT="${ENVIRONMENT:?ENVIRONMENT is required}"
AWS_REGION="${AWS_REGION:?AWS_REGION is required}"
export AWS_REGION AWS_DEFAULT_REGION="${AWS_REGION}"
APP_DIR=/opt/judge0
STATE_DIR=/var/lib/judge0
MARKER="${STATE_DIR}/cgroup-v1-requested"

log() { echo "judge0-bootstrap: $*"; }

mkdir -p "${STATE_DIR}"

if ! grep -q 'systemd.unified_cgroup_hierarchy=0' /proc/cmdline; then
  if [ -f "${MARKER}" ]; then
    log "cgroup v1 was requested but the kernel still runs cgroup v2; refusing to reboot again" >&2
    exit 1
  fi
  log "switching to cgroup v1 and rebooting once"
  # Ubuntu 24.04 also needs SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1 (judge0 issue 536); harmless on 22.04.
  cat > /etc/default/grub.d/99-judge0-cgroup-v1.cfg <<'GRUB'
GRUB_CMDLINE_LINUX="${GRUB_CMDLINE_LINUX} systemd.unified_cgroup_hierarchy=0 SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1"
GRUB
  update-grub
  touch "${MARKER}"
  systemctl reboot
  exit 0
fi

param() {
  aws ssm get-parameter --with-decryption --name "/${ENVIRONMENT}/judge0/$1" --query Parameter.Value --output text
}

umask 077
JUDGE0_AUTH_TOKEN="$(param auth-token)"
POSTGRES_PASSWORD="$(param postgres-password)"
REDIS_PASSWORD="$(param redis-password)"
JUDGE0_WORKERS="$(nproc)"
export JUDGE0_AUTH_TOKEN POSTGRES_PASSWORD REDIS_PASSWORD JUDGE0_WORKERS
"${APP_DIR}/render-conf.sh" "${APP_DIR}/judge0.conf.template" "${APP_DIR}/judge0.conf"

cd "${APP_DIR}"
# Database and cache first: the server migrates the schema at start.
docker compose up -d db redis
docker compose up -d server workers

for _ in $(seq 1 120); do
  if curl -fsS -H "X-Auth-Token: ${JUDGE0_AUTH_TOKEN}" http://127.0.0.1:2358/about > /dev/null; then
    log "Judge0 is up"
    exit 0
  fi
  sleep 5
done
log "Judge0 did not answer on :2358 within 10 minutes" >&2
exit 1
