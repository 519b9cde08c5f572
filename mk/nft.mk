# mk/nft.mk - the userspace side (included by the top-level Makefile).
#
#   make nft NFT_SRC=DIR LIBNFTNL_SRC=DIR
#       upstream nftables and libnftnl trees at the tags in nft-patch/TAG and
#       libnftnl-patch/TAG (git checkouts or unpacked release tarballs; they
#       are copied, never modified) -> build/nft/sbin/nft with the series
#       applied (scripts/build-nft.sh).  Rebuilt only when the series,
#       build-nft.sh or the source paths change.  With both set, "make check"
#       builds nft first and runs the nft tests in the guest.
#   make nft-suites NFT_SRC=DIR LIBNFTNL_SRC=DIR
#       upstream tests/py and tests/shell (-Q) in the UML guest, unpatched
#       nft (build/nft-unpatched) against patched nft; long, not part of
#       "make check".  NFT_SUITES=py|shell|"py shell", NFT_SUITES_JOBS=1|2,
#       NFT_SUITES_TIMEOUT=seconds per guest run.

## nft: the patched nft in build/nft (NFT_SRC=, LIBNFTNL_SRC=: upstream trees)
## nft-suites: nftables' tests/py and tests/shell, unpatched against patched nft; hours
## setup-nft: the Debian packages libnftnl and nftables need (.ci/packages-nft)
NFT_SRC      ?=
LIBNFTNL_SRC ?=
export NFT_SRC LIBNFTNL_SRC

NFT_PREFIX   := $(B)/nft
NFT_STAMP    := $(NFT_PREFIX)/.ctevq-stamp
NFTU_PREFIX  := $(B)/nft-unpatched
NFTU_STAMP   := $(NFTU_PREFIX)/.ctevq-stamp
NFT_SRCFILE  := $(B)/.nft-sources
NFT_INPUTS   := $(wildcard libnftnl-patch/* nft-patch/*) scripts/build-nft.sh \
		scripts/upstream-build-lib.sh
NFT_HAVE_SRC := $(and $(strip $(NFT_SRC)),$(strip $(LIBNFTNL_SRC)))
NFT_SUITES   ?= py shell
NFT_SUITES_JOBS ?= 1
NFT_SUITES_TIMEOUT ?= 2700

.PHONY: nft nft-suites nft-force setup-nft

setup-nft:
	@scripts/setup.sh $(TOP)/.ci/packages-nft

ifneq ($(NFT_HAVE_SRC),)

nft: $(NFT_STAMP)

# The source paths are an input too: rewritten only when they change.
$(NFT_SRCFILE): nft-force
	@mkdir -p $(@D)
	@echo '$(abspath $(LIBNFTNL_SRC)) $(abspath $(NFT_SRC))' | cmp -s - $@ 2>/dev/null || \
		echo '$(abspath $(LIBNFTNL_SRC)) $(abspath $(NFT_SRC))' > $@

$(NFT_STAMP) $(NFTU_STAMP): | setup-nft
$(NFT_STAMP): $(NFT_INPUTS) $(NFT_SRCFILE)
	@rm -f $@
	scripts/build-nft.sh $(LIBNFTNL_SRC) $(NFT_SRC) $(NFT_PREFIX)
	@touch $@

$(NFTU_STAMP): scripts/build-nft.sh scripts/upstream-build-lib.sh libnftnl-patch/TAG nft-patch/TAG $(NFT_SRCFILE)
	@rm -f $@
	NFT_NO_PATCH=1 NFT_BUILD_DIR=$(B)/nft-src-unpatched \
		scripts/build-nft.sh $(LIBNFTNL_SRC) $(NFT_SRC) $(NFTU_PREFIX)
	@touch $@

check check-debug: nft

nft-suites: $(NFT_STAMP) $(NFTU_STAMP) kernel
	NFT_SUITES_JOBS=$(NFT_SUITES_JOBS) scripts/nft-suites.sh --kernel $(UML) \
		--timeout $(NFT_SUITES_TIMEOUT) $(NFT_SUITES)

else

nft:
	@echo "nft: not built (the nft tests are skipped); to enable: make nft NFT_SRC=<nftables $$(cat nft-patch/TAG) tree> LIBNFTNL_SRC=<$$(cat libnftnl-patch/TAG) tree>"

nft-suites:
	@echo "nft-suites: needs NFT_SRC=<nftables $$(cat nft-patch/TAG) tree> LIBNFTNL_SRC=<$$(cat libnftnl-patch/TAG) tree>" >&2
	@exit 1

endif
