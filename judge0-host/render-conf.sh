#!/bin/bash
# Renders judge0.conf from judge0.conf.template with the secrets in the environment.
#   render-conf.sh TEMPLATE OUTPUT   (JUDGE0_AUTH_TOKEN, POSTGRES_PASSWORD, REDIS_PASSWORD, JUDGE0_WORKERS set)
# Judge0 1.13.1 runs as uid 1000 and loads the file with `set -o allexport; source` (scripts/load-config),
# and compose reads it as an env_file for postgres and redis. So the secrets sit in single quotes
# (literal for bash and for compose), which holds for any value without a quote or a line break; and
# the file belongs to uid 1000, mode 0400 (on the Ubuntu AMI uid 1000 is the default admin user, who
# has sudo anyway). POSTGRES_PASSWORD also lands unquoted in Judge0's config/database.yml (ERB), so
# it must be a plain YAML word: letters and digits only.
set -euo pipefail

TEMPLATE="${1:?usage: render-conf.sh TEMPLATE OUTPUT}"
OUTPUT="${2:?usage: render-conf.sh TEMPLATE OUTPUT}"
JUDGE0_UID="${JUDGE0_UID:-1000}"

problems=()
for name in JUDGE0_AUTH_TOKEN POSTGRES_PASSWORD REDIS_PASSWORD JUDGE0_WORKERS; do
  value="${!name-}"
  if [ -z "${value}" ]; then
    problems+=("${name} is empty")
  elif [[ "${value}" == *"'"* || "${value}" == *\\* || "${value}" == *$'\n'* || "${value}" == *$'\r'* ]]; then
    # Inside single quotes bash takes everything literally; compose also reads \' as an escaped quote.
    problems+=("${name} contains a single quote, a backslash or a line break, which judge0.conf cannot hold")
  fi
done
if [ -n "${POSTGRES_PASSWORD-}" ] && ! [[ "${POSTGRES_PASSWORD}" =~ ^[A-Za-z0-9]+$ ]]; then
  problems+=("POSTGRES_PASSWORD must be letters and digits only (Judge0 puts it unquoted into YAML)")
fi
if [ -n "${JUDGE0_WORKERS-}" ] && ! [[ "${JUDGE0_WORKERS}" =~ ^[1-9][0-9]*$ ]]; then
  problems+=("JUDGE0_WORKERS must be a positive integer")
fi
if [ "${#problems[@]}" -gt 0 ]; then
  printf 'render-conf: %s\n' "${problems[@]}" >&2
  exit 1
fi

export JUDGE0_AUTH_TOKEN POSTGRES_PASSWORD REDIS_PASSWORD JUDGE0_WORKERS
tmp="$(mktemp "${OUTPUT}.XXXXXX")"
trap 'rm -f "${tmp}"' EXIT
# shellcheck disable=SC2016 # the variable names are envsubst's allow-list, not expansions
envsubst '${JUDGE0_AUTH_TOKEN} ${POSTGRES_PASSWORD} ${REDIS_PASSWORD} ${JUDGE0_WORKERS}' < "${TEMPLATE}" > "${tmp}"
chown "${JUDGE0_UID}:${JUDGE0_UID}" "${tmp}"
chmod 0400 "${tmp}"
mv -f "${tmp}" "${OUTPUT}"
trap - EXIT
