#!/bin/bash
# tests/consumers/run.sh - inside the guest: the consumer tests
# (tests/consumers/[0-9][0-9]-*.sh) against the programs make consumers
# built in build/consumers; scripts/check.sh runs it when they are built.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rc=0
for t in "$here"/[0-9][0-9]-*.sh; do
	echo "=== $(basename "$t")"
	start=$(date +%s)
	bash "$t" || rc=1
	echo "=== $(basename "$t"): $(( $(date +%s) - start ))s"
done
exit $rc
