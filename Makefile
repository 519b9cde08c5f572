# ct event queue: kernel series, userspace, guest tests.  See README.
TOP      := $(abspath .)
B        := $(TOP)/build
include kernel/version
JOBS     ?= $(shell nproc)
KSRC     := $(B)/linux
KTREE    := $(B)/linux-dev
CCACHE   := $(shell command -v ccache)
KCC      := $(if $(CCACHE),ccache gcc,gcc)
export CCACHE_DIR ?= /var/cache/ctevq-ccache
export CCACHE_BASEDIR := $(B)
export CCACHE_MAXSIZE ?= 5G
KCONF    := $(TOP)/kernel/config
KFILES   := $(wildcard kernel/series/[0-9]*.patch)
UML      := $(B)/uml/linux
UMLDBG   := $(B)/uml-debug/linux
QEMUK    := $(B)/qemu-debug/arch/x86/boot/bzImage
QEMUKO   := $(B)/qemu-debug/net/netfilter/nft_ctevent.ko
TOOLS    := $(B)/bin/ctevq-listen $(B)/bin/ctevq-rule

.PHONY: all help kernel kernel-base kernel-bpf kernel-debug kernel-qemu tools check-bpf \
	bench-bpf check check-debug check-debug-smp demo series series-check bench \
	kernel-suites clean distclean setup setup-bpf setup-bench kernel-kcsan \
	check-kcsan bench-scale

## all: the UML kernel with the series and the tools (= kernel tools)
all: kernel tools

# make help prints the "## target: what it does" lines of this file and
# mk/*.mk, in order; scripts/check-help.sh (run by make check) fails when a
# target has none.
## help: this list
help:
	@sed -n 's/^## \([^:]*\): /\1\t/p' $(TOP)/Makefile $(TOP)/mk/*.mk | \
		awk -F '\t' '{ printf "  %-23s %s\n", $$1, $$2 }'

# SUITE=NN+NN (make check, check-debug, check-debug-smp, check-kcsan,
# check-bpf) runs only the test files of those numbers; for make check,
# "nft" and "consumers" name those runs.  The kernel suite's files that
# need two CPUs say "# ctevq: smp-only" in their header: the debug run gives
# them to the qemu guest and all others to UML, so a new file joins both
# make check and make check-debug.
SUITE    ?=
empty    :=
space    := $(empty) $(empty)
plus      = $(subst $(space),+,$(strip $(1)))
selected  = $(if $(SUITE),$(filter $(subst +, ,$(SUITE)),$(1)),$(1))
testnums  = $(foreach f,$(1),$(firstword $(subst -, ,$(notdir $(f)))))
KTESTS   := $(wildcard $(TOP)/tests/kernel/[0-9][0-9]-*.sh)
SMPONLY  := $(call testnums,$(shell grep -l '^# ctevq: smp-only' $(KTESTS)))
UPONLY   := $(filter-out $(SMPONLY),$(call testnums,$(KTESTS)))

# The Debian packages in .ci/packages: installed when make runs as root,
# else make stops at once with the apt-get line to run (scripts/setup.sh).
## setup: install the Debian packages of .ci/packages (run as root; make does it first)
setup:
	@scripts/setup.sh
## setup-bpf: the packages of the BPF targets (.ci/packages-bpf)
setup-bpf:
	@scripts/setup.sh $(TOP)/.ci/packages-bpf
## setup-bench: the packages of make bench-scale's plots (.ci/packages-bench)
setup-bench:
	@scripts/setup.sh $(TOP)/.ci/packages-bench
$(KSRC)/.git $(TOOLS): | setup

$(KSRC)/.git:
	scripts/get-kernel.sh $(B)/dl $(KSRC)

$(KTREE)/.ctevq-stamp: $(KSRC)/.git $(KFILES)
	scripts/kernel-apply.sh $(KSRC) $(KTREE)

define kbuild
	scripts/kconfig.sh $(1) $(KTREE) $(2) $(3)
	$(MAKE) -s -C $(KTREE) ARCH=$(1) O=$(2) CC="$(KCC)" -j$(JOBS) $(4)
endef

$(UML): $(KTREE)/.ctevq-stamp $(wildcard $(KCONF)/*.config)
	$(call kbuild,um,$(B)/uml,$(KCONF)/netfilter.config $(KCONF)/uml.config,linux)

$(UMLDBG): $(KTREE)/.ctevq-stamp $(wildcard $(KCONF)/*.config)
	$(call kbuild,um,$(B)/uml-debug,$(KCONF)/netfilter.config $(KCONF)/uml.config $(KCONF)/debug.config,linux)

# The qemu guest is the SMP one, so it carries the debug options too, and
# conntrack, ctnetlink and nft_ctevent as modules for the rmmod tests; the
# guest loads them from modroot/ (modules_install).
define modroot
	rm -rf $(1)/modroot
	$(MAKE) -s -C $(KTREE) ARCH=x86_64 O=$(1) INSTALL_MOD_PATH=$(1)/modroot \
		modules_install >/dev/null
endef
$(QEMUK): $(KTREE)/.ctevq-stamp $(wildcard $(KCONF)/*.config)
	$(call kbuild,x86_64,$(B)/qemu-debug,$(KCONF)/netfilter.config $(KCONF)/qemu.config $(KCONF)/debug.config $(KCONF)/modules.config,bzImage modules)
	$(call modroot,$(B)/qemu-debug)

# KCSAN cannot be in the KASAN kernel: the qemu guest with the race
# detector instead (make check-kcsan, not in CI).
QEMUKCSAN := $(B)/qemu-kcsan/arch/x86/boot/bzImage
$(QEMUKCSAN): $(KTREE)/.ctevq-stamp $(wildcard $(KCONF)/*.config)
	$(call kbuild,x86_64,$(B)/qemu-kcsan,$(KCONF)/netfilter.config $(KCONF)/qemu.config $(KCONF)/kcsan.config $(KCONF)/modules.config,bzImage modules)
	$(call modroot,$(B)/qemu-kcsan)
## kernel-kcsan: the qemu guest kernel with KCSAN instead of KASAN
kernel-kcsan: $(QEMUKCSAN)

# The pinned release without the series, for make bench's comparisons.
UMLBASE  := $(B)/uml-base/linux
$(UMLBASE): $(KSRC)/.git $(wildcard $(KCONF)/*.config)
	KCONFIG_BASE=1 scripts/kconfig.sh um $(KSRC) $(B)/uml-base $(KCONF)/netfilter.config $(KCONF)/uml.config
	$(MAKE) -s -C $(KSRC) ARCH=um O=$(B)/uml-base CC="$(KCC)" -j$(JOBS) linux modules

# make bench's SMP packet-path line: the qemu guest without the debug
# options, which would measure lockdep and KASAN instead.
QEMUB    := $(B)/qemu/arch/x86/boot/bzImage
$(QEMUB): $(KTREE)/.ctevq-stamp $(wildcard $(KCONF)/*.config)
	$(call kbuild,x86_64,$(B)/qemu,$(KCONF)/netfilter.config $(KCONF)/qemu.config,bzImage)

# BPF tracing of conntrack, for the comparison with queues (make
# check-bpf, make bench-bpf): the qemu guest without the debug options,
# with what a tracer needs (BTF from pahole, fentry, kprobes).
QEMUBPF  := $(B)/qemu-bpf/arch/x86/boot/bzImage
$(QEMUBPF): $(KTREE)/.ctevq-stamp $(wildcard $(KCONF)/*.config)
	$(call kbuild,x86_64,$(B)/qemu-bpf,$(KCONF)/netfilter.config $(KCONF)/qemu.config $(KCONF)/bpf.config,bzImage)
TRACE    := $(B)/bin/ctevq-trace
$(QEMUBPF) $(TRACE): | setup-bpf
$(TRACE): $(QEMUBPF) $(wildcard src/bpf/*) src/nlutil.c src/nlutil.h src/Makefile
	$(MAKE) -s -C src O=$(B) VMLINUX=$(B)/qemu-bpf/vmlinux trace

## kernel: fetch Linux, apply kernel/series, build the UML guest kernel
kernel: $(UML)
## kernel-bpf: the qemu guest kernel for BPF tracing (BTF, kprobes, fentry)
kernel-bpf: $(QEMUBPF)
## kernel-base: UML kernel of the pinned release without the series (make bench)
kernel-base: $(UMLBASE)
## kernel-debug: UML kernel with KASAN, lockdep, kmemleak, DEBUG_NET
kernel-debug: $(UMLDBG)
## kernel-qemu: x86_64 qemu guest kernel, debug options, conntrack as modules
kernel-qemu: $(QEMUK)

# The kernel selftest's listener (tests/kernel/85-selftest.sh runs the
# selftest from its directory), against the tree's own UAPI headers.
KHDR     := $(B)/khdr/.ctevq-stamp
SELFTEST := $(KTREE)/tools/testing/selftests/net/netfilter/ctevent_listen
$(KHDR): $(KTREE)/.ctevq-stamp
	$(MAKE) -s -C $(KTREE) O=$(B)/khdr ARCH=x86 headers
	touch $@
# (OUTPUT: lib.mk sets it only for a top-level make)
$(SELFTEST): $(KHDR)
	$(MAKE) -s -C $(dir $@) OUTPUT=$(patsubst %/,%,$(dir $@)) \
		KHDR_INCLUDES="-isystem $(B)/khdr/usr/include" $@

## tools: build/bin/ctevq-listen and ctevq-rule (src/)
tools: $(TOOLS)
$(TOOLS): $(wildcard src/*.c src/*.h) src/Makefile
	$(MAKE) -s -C src O=$(B)

# The suite in the UML guest, a smoke subset on 2 qemu vCPUs, one summary.
## check: the tests (series, UML suite, qemu smoke, nft, consumers); CI; 27 min warm
check: kernel kernel-qemu tools $(SELFTEST)
ifeq ($(SUITE),)
	scripts/check.sh --kernel $(UML) --runner uml --suite full \
		--qemu-kernel $(QEMUK) --series $(KTREE)
else
	scripts/check.sh --kernel $(UML) --runner uml --only $(SUITE)
endif

# The debug kernels: UML for the functional tests, the fuzzer and the
# isolation test, the 2-vCPU qemu guest for reliable delivery and the
# faults, whose races need two CPUs (each test runs on one of them: both
# are slow).  check-debug-smp runs the fuzzer and the isolation test on the
# qemu guest too: 14 more minutes, so not in CI.
DBGQ      = $(call selected,$(SMPONLY))
## check-debug: the suite on the debug kernels (smp-only files on qemu); CI; ~32 min warm
check-debug: kernel-debug kernel-qemu tools $(SELFTEST)
	scripts/check.sh --kernel $(UMLDBG) --runner uml --tag debug \
		$(if $(SUITE),--only "$(call plus,$(call selected,$(UPONLY)))",--suite $(call plus,$(UPONLY))) \
		$(if $(DBGQ),--qemu-kernel $(QEMUK) --qemu-suite $(call plus,$(DBGQ)))
## check-debug-smp: the fuzzer and isolation test on the 2-vCPU debug guest; ~14 min
check-debug-smp: kernel-qemu tools $(SELFTEST)
	scripts/check.sh --kernel $(QEMUK) --runner qemu --tag debug \
		--only "$(call plus,$(call selected,50 90))"
# the concurrency, reliability and fault tests under KCSAN, on 2 vCPUs
## check-kcsan: 60, 70, 80 on the 2-vCPU KCSAN guest; not in CI
check-kcsan: kernel-kcsan tools
	scripts/check.sh --kernel $(QEMUKCSAN) --runner qemu --tag kcsan \
		--only "$(call plus,$(call selected,60 70 80))"

# Not in CI: it needs a kernel of its own (make kernel-bpf).
## check-bpf: BPF tracing property tests (tests/bpf/) on qemu; not in CI
check-bpf: kernel-bpf tools $(TRACE)
	scripts/check-bpf.sh $(QEMUBPF) $(SUITE)

## demo: the README's demo in the UML guest (1 min warm, 18.5 min from a fresh clone)
demo: kernel tools
	scripts/run-guest.sh uml $(TOP)/tests/demo.sh $(B)/results/demo 600 $(UML) >/dev/null || true
	@cat $(B)/results/demo/output.log

## series: the three series as mails in build/series/ (kernel: git format-patch)
series: $(KTREE)/.ctevq-stamp
	scripts/series.sh $(KTREE) $(B)/series/kernel
	scripts/series-ident.sh $(B)/series/libnftnl libnftnl-patch
	scripts/series-ident.sh $(B)/series/nft nft-patch

## series-check: build the kernel at every patch of the series, checkpatch
series-check: series
	scripts/series.sh --build $(KTREE) $(B)/series/kernel

# make kernel-suites: the kernel's netfilter selftests as netdev's CI runs
# them (their config, every test, ksft exit codes), on the series and on the
# pinned release without it, in the 2-vCPU qemu guest.  Hours; not in CI.
KS       := $(B)/ks
KSK_P    := $(KS)/patched/arch/x86/boot/bzImage
KSK_U    := $(KS)/unpatched/arch/x86/boot/bzImage
KSFRAG   := $(KCONF)/netfilter.config $(KCONF)/qemu.config $(KCONF)/kselftest.config
$(KSK_P): $(KTREE)/.ctevq-stamp $(wildcard $(KCONF)/*.config) scripts/kselftest-config.sh
	scripts/kselftest-config.sh $(KTREE) $(KS)/patched.config
	$(call kbuild,x86_64,$(KS)/patched,$(KSFRAG) $(KS)/patched.config,bzImage modules.builtin)
$(KSK_U): $(KSRC)/.git $(wildcard $(KCONF)/*.config) scripts/kselftest-config.sh
	scripts/kselftest-config.sh $(KSRC) $(KS)/unpatched.config
	KCONFIG_BASE=1 scripts/kconfig.sh x86_64 $(KSRC) $(KS)/unpatched $(KSFRAG) $(KS)/unpatched.config
	$(MAKE) -s -C $(KSRC) ARCH=x86_64 O=$(KS)/unpatched CC="$(KCC)" -j$(JOBS) bzImage modules.builtin

## kernel-suites: the kernel's netfilter selftests, patched against unpatched; not in CI; 1.5 h
kernel-suites: $(KSK_P) $(KSK_U) $(KHDR)
	scripts/kernel-suites.sh --patched $(KTREE) $(KS)/patched \
		--unpatched $(KSRC) $(KS)/unpatched

include mk/nft.mk
include mk/consumers.mk

## clean: remove build/bin, build/results, build/series
clean:
	rm -rf $(B)/bin $(B)/results $(B)/series
## distclean: remove build/ (kernel trees, builds)
distclean:
	rm -rf $(B)

# BPF tracing against queues, on the qemu guest; not part of check.
## bench-bpf: BPF tracing against queues on qemu; not in CI
bench-bpf: kernel-bpf tools $(TRACE)
	QEMU_KERNEL=$(QEMUBPF) scripts/bench.sh --bpf

# Benchmark (numbers from UML are only meaningful as ratios); not part of check.
## bench: the benchmark (listener CPU, packet path, whole system); not in CI; 23 min
bench: kernel kernel-base $(QEMUB) tools
	KCC="$(KCC)" QEMU_KERNEL=$(QEMUB) scripts/bench.sh

# How the cost grows with queues, entries, netns, subscriptions; not part of
# check.
## bench-scale: cost against queues, entries, netns, subscriptions; not in CI
bench-scale: kernel tools | setup-bench
	KCC="$(KCC)" scripts/bench-scale.sh
