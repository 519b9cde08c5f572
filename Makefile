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

.PHONY: all kernel kernel-base kernel-bpf kernel-debug kernel-qemu tools check-bpf bench-bpf check check-debug check-debug-smp check-uml \
	check-qemu demo series series-check bench kernel-suites clean distclean setup setup-bpf \
	kernel-kcsan check-kcsan \
	setup-bench bench-scale

all: kernel tools

# The Debian packages in .ci/packages: installed when make runs as root,
# else make stops at once with the apt-get line to run (scripts/setup.sh).
setup:
	@scripts/setup.sh
setup-bpf:
	@scripts/setup.sh $(TOP)/.ci/packages-bpf
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

kernel: $(UML)
kernel-bpf: $(QEMUBPF)
kernel-base: $(UMLBASE)
kernel-debug: $(UMLDBG)
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

tools: $(TOOLS)
$(TOOLS): $(wildcard src/*.c src/*.h) src/Makefile
	$(MAKE) -s -C src O=$(B)

# The suite in the UML guest, a smoke subset on 2 qemu vCPUs, one summary.
check: kernel kernel-qemu tools $(SELFTEST)
	scripts/check.sh --kernel $(UML) --runner uml --suite full \
		--qemu-kernel $(QEMUK) --series $(KTREE)

# The debug kernels: UML for the functional tests, the fuzzer and the
# isolation test, the 2-vCPU qemu guest for reliable delivery and the
# faults, whose races need two CPUs (each test runs on one of them: both
# are slow).  check-debug-smp runs the fuzzer and the isolation test on the
# qemu guest too: 14 more minutes, so not in CI.
check-debug: kernel-debug kernel-qemu tools $(SELFTEST)
	scripts/check.sh --kernel $(UMLDBG) --runner uml --suite 00+10+20+25+30+40+50+60+85+90 \
		--tag debug --qemu-kernel $(QEMUK) --qemu-suite 70+80
check-debug-smp: kernel-qemu tools $(SELFTEST)
	scripts/check.sh --kernel $(QEMUK) --runner qemu --suite 50+90 --tag debug
# the concurrency, reliability and fault tests under KCSAN, on 2 vCPUs
check-kcsan: kernel-kcsan tools
	scripts/check.sh --kernel $(QEMUKCSAN) --runner qemu --suite 60+70+80 --tag kcsan

# Not in CI: it needs a kernel of its own (make kernel-bpf).
check-bpf: kernel-bpf tools $(TRACE)
	scripts/check-bpf.sh $(QEMUBPF)

demo: kernel tools
	scripts/run-guest.sh uml $(TOP)/tests/demo.sh $(B)/results/demo 600 $(UML) >/dev/null || true
	@cat $(B)/results/demo/output.log

series: $(KTREE)/.ctevq-stamp
	scripts/series.sh $(KTREE) $(B)/series/kernel
	scripts/series-ident.sh $(B)/series/libnftnl libnftnl-patch
	scripts/series-ident.sh $(B)/series/nft nft-patch

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

kernel-suites: $(KSK_P) $(KSK_U) $(KHDR)
	scripts/kernel-suites.sh --patched $(KTREE) $(KS)/patched \
		--unpatched $(KSRC) $(KS)/unpatched

include mk/nft.mk
include mk/consumers.mk

clean:
	rm -rf $(B)/bin $(B)/results $(B)/series
distclean:
	rm -rf $(B)

# BPF tracing against queues, on the qemu guest; not part of check.
bench-bpf: kernel-bpf tools $(TRACE)
	QEMU_KERNEL=$(QEMUBPF) scripts/bench.sh --bpf

# Benchmark (numbers from UML are only meaningful as ratios); not part of check.
bench: kernel kernel-base $(QEMUB) tools
	KCC="$(KCC)" QEMU_KERNEL=$(QEMUB) scripts/bench.sh

# How the cost grows with queues, entries, netns, subscriptions; not part of
# check.
bench-scale: kernel tools | setup-bench
	KCC="$(KCC)" scripts/bench-scale.sh
