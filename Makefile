# dvs: the two user commands are `make run` and `make test`; both install what they need.
JOBS ?= 2
BUILD ?= build
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDVS_WERROR=ON

.PHONY: all deps build run test test-release test-asan test-tsan clean

all: build

deps:
	@bash harness/scripts/install-deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Main job: a node on this machine, every primitive's ping-pong plus raw baselines, one table.
run: build
	$(BUILD)/harness/dvs run
	$(BUILD)/harness/dvs report --latest  # HTML + Markdown report of that run (docs/REPORT.md); prints where

test: deps test-release test-asan test-tsan
	@echo "make test: all suites passed"

test-release: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 300
	$(BUILD)/harness/dvs gate --baseline results/baselines  # instruction-count gate, one baseline per CPU vendor (harness/README.md)

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
	TSAN_OPTIONS=halt_on_error=1 DVSD_BIN=$(CURDIR)/build-tsan/core/dvsd $(BUILD)/core/dvs_remote_test

clean:
	rm -rf build build-asan build-tsan
