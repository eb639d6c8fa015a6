# The two entry points; each installs what it is missing first.
#   make suite   run the default benchmark suite on the default targets
#   make test    build and pass every test, check that firmware rebuilds byte for byte, and
#                that cycle accuracy against silicon (../shared/calibration) did not get worse

.PHONY: suite test

suite:
	scripts/setup build
	cargo run --release -p mcubench -- suite

test:
	scripts/setup test
	MCUBENCH_REQUIRE_CROSS=1 cargo test --workspace --release
	if [ -d ../shared/calibration ]; then scripts/accuracy --check; fi
	$(MAKE) -C workloads check-reproducible
	$(MAKE) -C emulator/tests/fixtures check-reproducible
	$(MAKE) -C emulator/tests/fixtures/devices check-reproducible
	$(MAKE) -C emulator/tests/fixtures/exceptions check-reproducible
	$(MAKE) -C emulator/tests/fixtures/rust-runner check-reproducible
	$(MAKE) -C benches/firmware check-reproducible
