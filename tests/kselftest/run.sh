#!/bin/bash
# Runs inside the guest (scripts/kernel-suites.sh boots it): the kernel's
# netfilter selftests, tools/testing/selftests/net/netfilter, as the
# kselftest runner runs them: each TEST_PROGS entry from its directory,
# under the directory's `settings` timeout, ksft exit codes (0 pass, 4 skip,
# anything else fail).  Guest command line:
#   ctevq.ks.dir=DIR     the selftest directory (helpers built in it)
#   ctevq.ks.nft=PREFIX  an nft install prefix to put first on PATH (else
#                        the system's nft runs)
#   ctevq.ks.mods=DIR    a /lib/modules tree for this kernel (modules.builtin)
#   ctevq.ks.only=A,B    only these tests (names without .sh)
#   ctevq.ks.timeout=S   per-test timeout instead of the settings file's
# Prints one line per test, "KSFT NAME RC SECONDS", and keeps each test's
# output in the results directory as ks-NAME.log.
dir= nftp= mods= only= tmo=
for arg in $(cat /proc/cmdline); do
	case $arg in
	ctevq.ks.dir=*) dir=${arg#*=} ;;
	ctevq.ks.nft=*) nftp=${arg#*=} ;;
	ctevq.ks.mods=*) mods=${arg#*=} ;;
	ctevq.ks.only=*) only=${arg#*=} ;;
	ctevq.ks.timeout=*) tmo=${arg#*=} ;;
	esac
done
R=${CTEVQ_RESULTS:-/mnt/results}
[ -d "$dir" ] || { echo "kselftest: no selftest directory '$dir'"; exit 1; }

# Everything is built in: modprobe must find the kernel's modules.builtin
# (the tests that check modprobe's exit status skip otherwise).  The root
# is the host's, read-only, and may have no /lib/modules to mount over, so
# a modprobe first on PATH points the real one at the tree (-d).  (The
# shim directory also holds the per-test PATH additions below.)
shim=$(mktemp -d "${TMPDIR:-/tmp}/kselftest-bin.XXXXXX")
if [ -n "$mods" ] && [ -d "$mods" ]; then
	real=$(PATH=/usr/sbin:/sbin:$PATH command -v modprobe)
	printf '#!/bin/sh\nexec %s -d %s "$@"\n' "$real" "${mods%/lib/modules/*}" > "$shim/modprobe"
	chmod +x "$shim/modprobe"
	export PATH="$shim:$PATH"
	echo "kselftest: modprobe -d ${mods%/lib/modules/*}: br_netfilter $(modprobe -n br_netfilter 2>&1 && echo found)"
fi
[ -n "$nftp" ] && [ -x "$nftp/sbin/nft" ] && export PATH="$nftp/sbin:$PATH"
echo "kselftest: nft $(command -v nft): $(nft --version 2>&1)"
echo "kselftest: kernel $(uname -r), $(nproc) CPUs, $(free -m | awk '/^Mem/ {print $2}') MiB"

# The tests write next to themselves (mktemp in cwd, logs): the directory
# is read-only in the guest, so they run from a writable copy of it.
work=$(mktemp -d "${TMPDIR:-/tmp}/kselftest.XXXXXX")
cp -a "$dir" "$work/netfilter"
cp -a "$dir/../lib.sh" "$work/"
mkdir -p "$work/lib" && cp -a "$dir/../lib/sh" "$work/lib/"
cd "$work/netfilter" || exit 1

# netdev's CI runs its debug-kernel runners with KSFT_MACHINE_SLOW=yes,
# which scales the tests' counts and waits down; a TCG guest is slower still.
export KSFT_MACHINE_SLOW=yes

# bridge_brouter needs ebtables' broute table, which bookworm's ebtables-nft
# (iptables 1.8.9) lacks; the config builds the legacy ebtables it uses.
legacy=
if [ -x /usr/sbin/ebtables-legacy ]; then
	legacy=$shim/legacy
	mkdir -p "$legacy" && ln -s /usr/sbin/ebtables-legacy "$legacy/ebtables"
fi
echo "kselftest: KSFT_MACHINE_SLOW=yes; ebtables for bridge_brouter: $([ -n "$legacy" ] && echo ebtables-legacy || echo "none (apt-get install ebtables)")"

[ -n "$tmo" ] || tmo=$(sed -n 's/^timeout=//p' settings 2>/dev/null)
tmo=${tmo:-45}
progs=$(sed -n '/^TEST_PROGS *:*=/,/^# end of TEST_PROGS/p' Makefile |
	grep -o '[A-Za-z0-9_-]*\.sh')
for t in $progs; do
	n=${t%.sh}
	if [ -n "$only" ]; then
		case ",$only," in *",$n,"*) ;; *) continue ;; esac
	fi
	t0=${EPOCHREALTIME/[.,]/}
	p=$PATH
	[ "$n" = bridge_brouter ] && [ -n "$legacy" ] && p=$legacy:$PATH
	PATH=$p timeout -k 10 "$tmo" bash "./$t" < /dev/null > "$R/ks-$n.log" 2>&1
	rc=$?
	t1=${EPOCHREALTIME/[.,]/}
	echo "KSFT $n $rc $(( (t1 - t0) / 1000000 ))"
	# whatever the test left behind must not disturb the next one
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		ip netns del "$ns" 2>/dev/null
	done
	pkill -9 -f "$work" 2>/dev/null
done
exit 0
