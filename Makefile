# The two entry points; each installs what it is missing first.
#   make suite   run the default benchmark suite on the default targets
#   make test    build and pass every test, check that firmware rebuilds byte for byte, and
#                that cycle accuracy against silicon (../shared/calibration) and energy
#                accuracy against MLPerf Tiny measurements (docs/accuracy.md) did not get worse
# Both build unicorn with mcubench's patch first (engine/README.md); ENGINE=stock uses the
# unicorn-engine-sys crate's own build instead: the same figures, slower.

ENGINE ?= patched
with_engine = $(if $(filter stock,$(ENGINE)),,pc=$$(engine/build) && export PKG_CONFIG_PATH="$$pc" MCUBENCH_REQUIRE_PATCHED_ENGINE=1 &&)

.PHONY: suite test

suite:
	scripts/setup build
	$(with_engine) cargo run --release -p mcubench -- suite

test:
	scripts/setup test
	$(with_engine) MCUBENCH_REQUIRE_CROSS=1 cargo test --workspace --release && \
	scripts/accuracy-energy --check && \
	if [ -d ../shared/calibration ]; then scripts/accuracy --check; fi
	$(MAKE) -C workloads check-reproducible
	$(MAKE) -C emulator/tests/fixtures check-reproducible
	$(MAKE) -C emulator/tests/fixtures/devices check-reproducible
	$(MAKE) -C emulator/tests/fixtures/exceptions check-reproducible
	$(MAKE) -C emulator/tests/fixtures/rust-runner check-reproducible
	$(MAKE) -C benches/firmware check-reproducible
