#!/bin/bash
# tests/nft/run.sh - the nft tests, inside the guest (scripts/check.sh runs it
# with scripts/run-guest.sh when the patched nft is built: make nft).
#   nft-py:     this repository's tests/py/*/*.t with the patched tree's
#               tests/py/nft-test.py against build/nft/lib/libnftables.so.1
#   nft-shell:  this repository's tests/shell testcases with the patched
#               tree's tests/shell/run-tests.sh, NFT=build/nft/sbin/nft
#               (plus: the feature probes of tests/shell/features detected)
#   nft-e2e:    every form of the statement loaded with nft -f, listed back
#               in text and JSON, JSON round trip, caret errors on bad input
# The upstream harnesses write next to their tests, and the root file system
# is read-only in the guest: they run from copies in $TMPDIR, with this
# repository's copies of the test files laid over the tree's.
. "$(dirname "${BASH_SOURCE[0]}")/../kernel/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../kernel/ctevq.sh"

NFTP=${CTEVQ_NFT_PREFIX:-$TOP/build/nft}
NFT=$NFTP/sbin/nft
LIB=$NFTP/lib/libnftables.so.1
SRC=${CTEVQ_NFT_TREE:-$TOP/build/nft-src/nftables}
W=$T_WORK/nftables

if [ ! -x "$NFT" ] || [ ! -e "$LIB" ] || [ ! -f "$SRC/tests/py/nft-test.py" ]; then
	fail nft-setup "no patched nft build ($NFT, $LIB, $SRC): run make nft"
	summary; exit $?
fi
echo "nft: $("$NFT" --version) ($NFT)"
mkdir -p "$W/tests"
cp -a "$SRC/py" "$W/py" && cp -a "$SRC/tests/py" "$SRC/tests/shell" "$W/tests/" &&
	cp -a "$TOP/tests/py/." "$W/tests/py/" && cp -a "$TOP/tests/shell/." "$W/tests/shell/" ||
	{ fail nft-setup "cannot copy the test trees to $W"; summary; exit $?; }

# --- tests/py ---------------------------------------------------------------
# -S: no JSON schema validation (python3-jsonschema is not installed).
for t in $(cd "$TOP/tests/py" && find . -name '*.t' | sed 's|^\./||' | sort); do
	out=$(cd "$W/tests/py" && $PYTHON ./nft-test.py -S -l "$LIB" "$t" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && ! grep -q 'ERROR' <<< "$out"; then
		ok "nft-py: $t"
		grep -E ': [0-9]+ unit tests' <<< "$out" | sed 's/^/    /'
	else
		fail "nft-py: $t" "nft-test.py exit $rc"
		grep -E 'ERROR|WARNING|unit tests' <<< "$out" | head -n 40 | sed 's/^/    /'
	fi
done

# --- tests/shell --------------------------------------------------------------
# the series' own cases, and the upstream ones whose dumps it adds
cases=$(cd "$TOP/tests/shell" && { find testcases -type f -perm -u+x
	find testcases -path '*/dumps/*' -type f |
		sed -E 's#/dumps/([^/]*)\.(nft|json-nft|nodump)$#/\1#'; } | sort -u)
if [ -n "$cases" ]; then
	out=$(cd "$W/tests/shell" && NFT="$NFT" ./run-tests.sh -k $cases 2>&1)
	rc=$?
	echo "$out" > "$T_WORK/run-tests.log"
	for f in "$TOP"/tests/shell/features/*.nft; do
		[ -f "$f" ] || continue
		feat=$(basename "$f" .nft)
		if grep -q "NFT_TEST_HAVE_$feat=y" <<< "$out"; then
			ok "nft-shell: feature $feat detected"
		else
			fail "nft-shell: feature $feat detected" "$(grep "NFT_TEST_HAVE_$feat=" <<< "$out" || echo 'no probe line')"
		fi
	done
	for c in $cases; do
		line=$(grep -E "^[IW]: \[[A-Z ]+\] +[0-9]+/[0-9]+ $c\$" <<< "$out" | tail -n1)
		st=$(sed -E 's/^[IW]: \[([A-Z ]+)\].*/\1/' <<< "$line")
		case $st in
		OK) ok "nft-shell: $c" ;;
		SKIPPED) skip "nft-shell: $c" "skipped by run-tests.sh (feature missing)" ;;
		'') fail "nft-shell: $c" "no result from run-tests.sh (exit $rc)"
		    tail -n 20 <<< "$out" | sed 's/^/    /' ;;
		*) fail "nft-shell: $c" "$st"
		   d=$(grep -o "/[^\"]*nft-test[^\"]*" <<< "$out" | head -n1)
		   for l in "$d"/*/testout.log "$d"/*/ruleset-diff; do
			[ -s "$l" ] && sed -n '1,30p' "$l" | sed 's/^/    /'
		   done ;;
		esac
	done
fi

# --- end to end ---------------------------------------------------------------
E=$T_WORK/e2e
mkdir -p "$E"
ip netns add nfte2e || { fail nft-e2e "ip netns add"; summary; exit $?; }
N() { ip netns exec nfte2e "$NFT" "$@"; }

cat > "$E/ruleset.nft" <<'EOF'
define evq = 7

table inet evq {
	chain post {
		type filter hook postrouting priority filter; policy accept;
		ct event queue 1
		ct event queue 10-13
		ct event queue 3 bypass
		ct event queue 20-21 bypass
		ct state established ct event queue $evq counter
	}
}
table ip evq4 {
	chain c {
		ct event queue 0
		ct event queue 65535
	}
}
table ip6 evq6 {
	chain c {
		ct event queue 4 bypass
	}
}
table bridge evqbr {
	chain c {
		ct event queue 5-6
	}
}
table inet evqto {
	map tenants {
		typeof ip saddr : queue
		flags interval
		elements = { 192.0.2.0/26 : 1, 192.0.2.64/26 : 2 }
	}

	chain c {
		ct event queue to ip saddr map @tenants
		ct event queue to ip6 saddr map { 2001:db8:1::/48 : 4 } bypass
		ct event queue to jhash ip saddr . ip daddr mod 4 offset 10
		ct event queue to symhash mod 2
		ct event queue to numgen inc mod 3 offset 1
		ct event queue to meta mark
		ct event queue to ct mark bypass
		ct event queue to 8
	}
}
EOF
cat > "$E/expected.nft" <<'EOF'
table inet evq {
	chain post {
		type filter hook postrouting priority filter; policy accept;
		ct event queue 1
		ct event queue 10-13
		ct event queue 3 bypass
		ct event queue 20-21 bypass
		ct state established ct event queue 7 counter packets 0 bytes 0
	}
}
table ip evq4 {
	chain c {
		ct event queue 0
		ct event queue 65535
	}
}
table ip6 evq6 {
	chain c {
		ct event queue 4 bypass
	}
}
table bridge evqbr {
	chain c {
		ct event queue 5-6
	}
}
table inet evqto {
	map tenants {
		typeof ip saddr : queue
		flags interval
		elements = { 192.0.2.0/26 : 1,
			     192.0.2.64/26 : 2 }
	}

	chain c {
		ct event queue to ip saddr map @tenants
		ct event queue to ip6 saddr map { 2001:db8:1::/48 : 4 } bypass
		ct event queue to jhash ip saddr . ip daddr mod 4 offset 10
		ct event queue to symhash mod 2
		ct event queue to numgen inc mod 3 offset 1
		ct event queue to meta mark
		ct event queue to ct mark bypass
		ct event queue 8
	}
}
EOF

# JSON without handles (they grow across reloads)
jnorm() { $PYTHON -c '
import json, sys
def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k != "handle"}
    if isinstance(o, list):
        return [strip(v) for v in o]
    return o
print(json.dumps(strip(json.load(open(sys.argv[1]))), indent=1, sort_keys=True))' "$1"; }

if N -f "$E/ruleset.nft" 2> "$E/load.err"; then
	ok "nft-e2e: nft -f every form (1, 10-13, 3 bypass, range bypass, \$var, ip/ip6/inet/bridge, to EXPR)"
else
	fail "nft-e2e: nft -f every form" "$(head -n 5 "$E/load.err")"
fi
N list ruleset > "$E/list.nft" 2>&1
check "nft-e2e: nft list ruleset lists the rules back as written" \
	"listing differs" -- diff -u "$E/expected.nft" "$E/list.nft"
N -j list ruleset > "$E/list.json" 2>&1
check "nft-e2e: nft -j list ruleset has every form" "JSON listing" -- $PYTHON -c '
import json, sys
st = [s for i in json.load(open(sys.argv[1]))["nftables"] if "rule" in i
      for s in i["rule"]["expr"] if "ct event queue" in s]
want = [{"num": 1}, {"num": {"range": [10, 13]}}, {"num": 3, "flags": "bypass"},
        {"num": {"range": [20, 21]}, "flags": "bypass"}, {"num": 7},
        {"num": 0}, {"num": 65535}, {"num": 4, "flags": "bypass"},
        {"num": {"range": [5, 6]}},
        "map", "map", "jhash", "symhash", "numgen", "meta", "ct", {"num": 8}]
def kind(d):
    n = d["num"]
    if isinstance(n, dict) and "range" not in n:
        return list(n)[0]
    return d
got = [kind(s["ct event queue"]) for s in st]
def norm(d):
    if isinstance(d, str):
        return d
    d = dict(d)
    if isinstance(d.get("flags"), list) and len(d["flags"]) == 1:
        d["flags"] = d["flags"][0]
    return d
got = [norm(g) for g in got]
if got != want:
    sys.exit("got %s\nwant %s" % (got, want))' "$E/list.json"
N flush ruleset
if N -j -f "$E/list.json" 2> "$E/jload.err"; then
	N list ruleset > "$E/list-j.nft" 2>&1
	N -j list ruleset > "$E/list-j.json" 2>&1
	check "nft-e2e: JSON round trip (nft -j -f of the listing, text listing identical)" \
		"text listing after the JSON load differs" -- diff -u "$E/list.nft" "$E/list-j.nft"
	jnorm "$E/list.json" > "$E/a.json"; jnorm "$E/list-j.json" > "$E/b.json"
	check "nft-e2e: JSON round trip (nft -j list identical but for handles)" \
		"JSON listing after the JSON load differs" -- diff -u "$E/a.json" "$E/b.json"
else
	fail "nft-e2e: JSON round trip" "nft -j -f of the listing: $(head -n 5 "$E/jload.err")"
fi
N flush ruleset
if N -f "$E/list.nft" 2> "$E/tload.err"; then
	N list ruleset > "$E/list-t.nft" 2>&1
	check "nft-e2e: text round trip (nft -f of the listing, listed identically)" \
		"listing after reloading the listing differs" -- diff -u "$E/list.nft" "$E/list-t.nft"
else
	fail "nft-e2e: text round trip" "$(head -n 5 "$E/tload.err")"
fi
N flush ruleset

# bad input: refused with nft's error message and carets under the culprit
bad() {	# NAME RULESET MESSAGE_REGEX
	local f=$E/bad-$1.nft out rc
	printf '%s\n' "$2" > "$f"
	out=$(N -f "$f" 2>&1); rc=$?
	if [ $rc -ne 0 ] && grep -qE "^$f:[0-9]+:[0-9]+-[0-9]+: Error: $3" <<< "$out" &&
	   grep -qE '^ *\^+ *$' <<< "$out"; then
		ok "nft-e2e: refused with a caret error: $1"
		sed -n '/Error/,+2p' <<< "$out" | sed 's/^/    /'
	else
		fail "nft-e2e: refused with a caret error: $1" "exit $rc"
		printf '%s\n' "$out" | head -n 10 | sed 's/^/    /'
	fi
}
bad 65536 'table ip t { chain c { ct event queue 65536; }; }' 'Value 65536 exceeds valid range 0-65535'
bad 10-5 'table ip t { chain c { ct event queue 10-5; }; }' 'Range negative size'
bad 0-65535 'table ip t { chain c { ct event queue 0-65535; }; }' 'ct event queue range spans more than 65535 queues'
bad netdev 'table netdev t { chain c { ct event queue 1; }; }' 'ct event queue is not supported in netdev family'
bad arp 'table arp t { chain c { ct event queue 1; }; }' 'ct event queue is not supported in arp family'
bad to-65536 'table ip t { chain c { ct event queue to meta mark map { 0x1 : 65536 }; }; }' 'Value 65536 exceeds valid range 0-65535'
bad to-hash 'table ip t { chain c { ct event queue to symhash mod 2 offset 65535; }; }' 'ct event queue max value exceeds 65535'
bad to-state 'table ip t { chain c { ct event queue to ct state; }; }' 'ct event queue number must be an integer or a mark, not conntrack state'
if [ -z "$(N list ruleset)" ]; then
	ok "nft-e2e: nothing was added by the refused rulesets"
else
	fail "nft-e2e: nothing was added by the refused rulesets" "$(N list ruleset | head -n 5)"
fi
ip netns del nfte2e

# --- one queue per source subnet, from a map ----------------------------------
# Three listeners, one per /26 of the client's addresses; the fourth /26 maps
# to nothing.  Each listener's stream is exactly its subnet's connections.
mk_pair
for a in 192.0.2.10 192.0.2.70 192.0.2.130 192.0.2.200; do
	ip -n ns1 addr add $a/24 dev veth1
done
ip netns exec ns1 "$NFT" -f - <<'EOF'
table inet tenants {
	chain post {
		type filter hook postrouting priority filter; policy accept;
		ct event queue to ip saddr map { 192.0.2.0/26 : 1, 192.0.2.64/26 : 2, 192.0.2.128/26 : 3 }
	}
}
EOF
serve ns2 tcp 192.0.2.2 8080 8
listen mq1 ns1 -q 1; listen mq2 ns1 -q 2; listen mq3 ns1 -q 3; listen mmc ns1 -m
traffic ns1 client tcp 192.0.2.2 8080 2 --src 192.0.2.10 --sport 40000
traffic ns1 client tcp 192.0.2.2 8080 2 --src 192.0.2.70 --sport 40010
traffic ns1 client tcp 192.0.2.2 8080 2 --src 192.0.2.130 --sport 40020
traffic ns1 client tcp 192.0.2.2 8080 2 --src 192.0.2.200 --sport 40030
ct_flush ns1
stop_listeners; wait
for q in 1 2 3; do
	base=$((40000 + (q - 1) * 10))
	check "nft-map: queue $q stream well formed, 2 connections" "queue $q" -- \
		evcheck wellformed "$T_WORK/mq$q.json" --conns 2
	expect "nft-map: queue $q has exactly its subnet's connections" 2 \
		"$(evcheck conns "$T_WORK/mq$q.json" --sport "$base-$((base + 1))")"
done
expect "nft-map: multicast has every connection" 8 "$(evcheck conns "$T_WORK/mmc.json")"
expect "nft-map: the queues together have the mapped subnets' messages, no more" \
	"$(evcheck count "$T_WORK/mmc.json" --sport 40000-40029)" \
	"$(( $(evcheck count "$T_WORK/mq1.json") + $(evcheck count "$T_WORK/mq2.json") + \
	     $(evcheck count "$T_WORK/mq3.json") ))"
cleanup_ns

dmesg_clean > "$E/dmesg" || fail nft-dmesg "kernel splat: $(head -n 3 "$E/dmesg")"
summary
exit $?
