# mk/consumers.mk - the programs operators run, able to bind event queues
# (included by the top-level Makefile).
#
#   make consumers LNFCT_SRC=DIR CTTOOLS_SRC=DIR
#       upstream libnetfilter_conntrack and conntrack-tools trees at the tags
#       in libnetfilter_conntrack-patch/TAG and conntrack-tools-patch/TAG
#       (git checkouts or unpacked release tarballs; copied, never modified)
#       -> build/consumers/sbin/conntrack linked to the patched
#       build/consumers/lib/libnetfilter_conntrack.so, and the library's
#       queue examples in build/consumers/libexec/ctevq/
#       (scripts/build-consumers.sh).  Rebuilt only when the series, the
#       script or the source paths change.  With both set, "make check"
#       builds them first and runs tests/consumers/ in the guest.
#       ULOGD_SRC=DIR (optional): ulogd2 at ulogd2-patch/TAG as well
#       (build/consumers/sbin/ulogd); without it the ulogd test is skipped.
#   make consumers-suites LNFCT_SRC=DIR CTTOOLS_SRC=DIR
#       conntrack-tools' tests/conntrack testsuite in the UML guest with the
#       unpatched (build/consumers-unpatched) and the patched build, side by
#       side (scripts/consumers-suites.sh); not part of "make check".
#   make consumers-series-check LNFCT_SRC=DIR CTTOOLS_SRC=DIR [ULOGD_SRC=DIR]
#       each series applied with git am on its tag and built at every patch
#       (scripts/consumers-series-check.sh); not part of "make check".

## consumers: patched libnetfilter_conntrack, conntrack, conntrackd, ulogd (LNFCT_SRC=, CTTOOLS_SRC=, ULOGD_SRC=)
## consumers-suites: conntrack-tools' own testsuite, unpatched against patched
## consumers-series-check: the three consumer series built at every patch; ~3 min
## setup-consumers: the Debian packages the consumers need (.ci/packages-consumers)
LNFCT_SRC   ?=
CTTOOLS_SRC ?=
ULOGD_SRC   ?=
export LNFCT_SRC CTTOOLS_SRC ULOGD_SRC

CONS_PREFIX   := $(B)/consumers
CONS_STAMP    := $(CONS_PREFIX)/.ctevq-stamp
CONS_SRCFILE  := $(B)/.consumers-sources
CONS_INPUTS   := $(wildcard libnetfilter_conntrack-patch/* conntrack-tools-patch/* \
			   ulogd2-patch/*) \
		 scripts/build-consumers.sh scripts/upstream-build-lib.sh
CONS_HAVE_SRC := $(and $(strip $(LNFCT_SRC)),$(strip $(CTTOOLS_SRC)))

CONSU_PREFIX  := $(B)/consumers-unpatched
CONSU_STAMP   := $(CONSU_PREFIX)/.ctevq-stamp

.PHONY: consumers consumers-force consumers-series-check consumers-suites setup-consumers

setup-consumers:
	@scripts/setup.sh $(TOP)/.ci/packages-consumers

ifneq ($(CONS_HAVE_SRC),)

consumers: $(CONS_STAMP)

$(CONS_SRCFILE): consumers-force
	@mkdir -p $(@D)
	@echo '$(abspath $(LNFCT_SRC)) $(abspath $(CTTOOLS_SRC)) $(abspath $(ULOGD_SRC))' | cmp -s - $@ 2>/dev/null || \
		echo '$(abspath $(LNFCT_SRC)) $(abspath $(CTTOOLS_SRC)) $(abspath $(ULOGD_SRC))' > $@

$(CONS_STAMP) $(CONSU_STAMP): | setup-consumers
$(CONS_STAMP): $(CONS_INPUTS) $(CONS_SRCFILE)
	@rm -f $@
	scripts/build-consumers.sh $(LNFCT_SRC) $(CTTOOLS_SRC) $(CONS_PREFIX) $(ULOGD_SRC)
	@touch $@

check check-debug: consumers

$(CONSU_STAMP): scripts/build-consumers.sh scripts/upstream-build-lib.sh \
		libnetfilter_conntrack-patch/TAG conntrack-tools-patch/TAG $(CONS_SRCFILE)
	@rm -f $@
	CONSUMERS_NO_PATCH=1 CONSUMERS_BUILD_DIR=$(B)/consumers-src-unpatched \
		scripts/build-consumers.sh $(LNFCT_SRC) $(CTTOOLS_SRC) $(CONSU_PREFIX)
	@touch $@

# conntrack-tools' own testsuite, unpatched against patched, in the guest
consumers-suites: $(CONS_STAMP) $(CONSU_STAMP) kernel
	scripts/consumers-suites.sh --kernel $(UML)

# every patch of the three series applied with git am on its tag, and built
consumers-series-check: $(CONS_STAMP)
	scripts/consumers-series-check.sh $(LNFCT_SRC) $(CTTOOLS_SRC) $(ULOGD_SRC)

else

consumers:
	@echo "consumers: not built (the consumer tests are skipped); to enable: make consumers LNFCT_SRC=<$$(cat libnetfilter_conntrack-patch/TAG) tree> CTTOOLS_SRC=<$$(cat conntrack-tools-patch/TAG) tree>"

consumers-suites consumers-series-check:
	@echo "$@: needs LNFCT_SRC=<$$(cat libnetfilter_conntrack-patch/TAG) tree> CTTOOLS_SRC=<$$(cat conntrack-tools-patch/TAG) tree>" >&2
	@exit 1

endif
