# Top-level entry points. `make test` and `make demo` work on a fresh Debian 12 machine as
# root: they install what is missing (apt-get, npm ci), configure, build, then test or demo.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
APT_PKGS   := cmake ninja-build pkg-config gcc make libzstd-dev liblz4-dev zlib1g-dev \
              libsnappy-dev libbrotli-dev libcurl4-openssl-dev libssl-dev libcmocka-dev \
              zstd lz4
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps npm configure build test test-asan demo fuzz bench clean

all: build

deps:
	@missing=""; for p in $(APT_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if ! command -v node >/dev/null 2>&1; then missing="$$missing nodejs npm"; fi; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

npm: deps
	@if [ -f tests/interop/package-lock.json ] && \
	   [ ! tests/interop/node_modules/.package-lock.json -nt tests/interop/package-lock.json ]; then \
	  cd tests/interop && npm ci --no-audit --no-fund --loglevel=error; \
	fi

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

configure: $(BUILD)/build.ninja

build: deps configure
	cmake --build $(BUILD) -j $(JOBS)

test: build npm
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer, warnings as errors.
test-asan: deps npm
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DOTAP_SANITIZE=ON -DOTAP_WERROR=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

demo: build
	./$(BUILD)/otap demo

# Every benchmark with its defaults (each prints its in-run references; see BENCHMARKS.md for
# the figures and per-benchmark options).
bench: build npm
	./$(BUILD)/bench/arrow/bench_arrow
	./$(BUILD)/bench/ipc/bench_ipc
	./$(BUILD)/bench/batch/bench_batch
	./$(BUILD)/bench/parquet/bench_parquet_read
	./$(BUILD)/bench/parquet/bench_parquet_write
	./$(BUILD)/bench/store/bench_store

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
