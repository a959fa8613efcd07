# dvs: the two user commands are `make run` and `make test`; both install what they need.
JOBS ?= 2
BUILD ?= build
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDVS_WERROR=ON
# libFuzzer targets (docs/FUZZING.md): seconds per target in `make test`, and in `make fuzz`
# (FUZZ_TARGETS: some of them, by name; all by default).
FUZZ_TEST_SECONDS ?= 30
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?=

.PHONY: all deps deps-run build run test test-release test-asan test-tsan test-fuzz fuzz fuzz-merge clean

all: build

# Debian packages (harness/scripts/install-deps.sh): `deps` everything `make test` uses (a
# superset of `deps-run`, what `make run` uses).
deps:
	@bash harness/scripts/install-deps.sh test

deps-run:
	@bash harness/scripts/install-deps.sh run

# Configures every time: optional parts (the Python module, notebook tests) are found once
# `deps` installed them, also in a tree `make run` configured with fewer packages.
build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

# Main job: a node on this machine, every primitive's ping-pong plus raw baselines, one table and
# a report. Quiet: apt and compiler output go to $(BUILD)/make-run.log (harness/scripts/make-run.sh).
run:
	@BUILD=$(BUILD) JOBS=$(JOBS) CMAKE_FLAGS="$(CMAKE_FLAGS)" bash harness/scripts/make-run.sh

test: deps test-release test-asan test-tsan test-fuzz
	@echo "make test: all suites passed"

test-release: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 300
	$(BUILD)/bin/dvs gate --baseline results/baselines  # instruction-count gate, one baseline per CPU vendor (harness/README.md)

test-asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DDVS_WERROR=ON -DDVS_SANITIZE=address
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 300 -LE nosan

test-tsan: deps build
	cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DDVS_WERROR=ON -DDVS_SANITIZE=thread
	cmake --build build-tsan -j $(JOBS) --target dvs_tsan_tests dvsd
	cd build-tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  ctest --output-on-failure --timeout 300 -L tsan
	# dvsd's own threads (server, proxies' link and dispatcher threads) under TSan: the remote
	# suite of the release build against a TSan dvsd (a race makes dvsd exit, failing the test).
	TSAN_OPTIONS=halt_on_error=1 DVSD_BIN=$(CURDIR)/build-tsan/bin/dvsd $(BUILD)/core/dvsd/proxy/dvs_remote_test

# Every fuzz target (build-fuzz: clang, ASan + UBSan) for FUZZ_TEST_SECONDS on a scratch copy of its
# seed corpus; fails on a crash, leak, timeout or OOM, naming the reproducer.
test-fuzz: deps
	JOBS=$(JOBS) bash harness/scripts/run-fuzz.sh $(FUZZ_TEST_SECONDS)

# A longer run: make fuzz FUZZ_SECONDS=1800 [FUZZ_TARGETS="dvs_wire_fuzz ..."]
fuzz: deps
	JOBS=$(JOBS) bash harness/scripts/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Folds the last run's coverage-adding inputs into the seed corpora (then review and commit them).
fuzz-merge: deps
	JOBS=$(JOBS) bash harness/scripts/run-fuzz.sh --merge $(FUZZ_TARGETS)

clean:
	rm -rf build build-asan build-tsan build-fuzz
