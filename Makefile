# The two commands: `make demo` and `make test`. Both set the machine up first.
BUILD ?= build
JOBS ?= $(shell nproc)
# The Node.js that scripts/node.sh installs where the system's is too old goes first on PATH.
export PATH := $(CURDIR)/scripts/node/installed/bin:$(PATH)

.PHONY: all bootstrap build test demo bench clean

all: build

bootstrap:
	@bash scripts/bootstrap.sh

$(BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: bootstrap $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)
	@bash scripts/ui.sh $(BUILD)

# The PostgreSQL store's tests (and every test against PostgreSQL) use a throwaway cluster in
# $(BUILD)/pg on 127.0.0.1, started here and stopped afterwards whatever the tests' outcome
# (ctest's exit code is make's).
PG_DIR := $(abspath $(BUILD))/pg
test: build
	@bash scripts/mcp-servers.sh
	@bash scripts/browser.sh
	@url=$$(bash scripts/pg-cluster.sh start $(PG_DIR)) || exit 1; \
	trap 'bash $(CURDIR)/scripts/pg-cluster.sh stop $(PG_DIR)' EXIT; trap 'exit 130' INT TERM; \
	echo "PostgreSQL for the tests: $$url"; \
	cd $(BUILD) && SPECWRIGHT_TEST_PG_URL="$$url" ctest --output-on-failure -j $(JOBS)

demo: build
	@bash scripts/demo.sh $(BUILD)/specwright

bench: bootstrap $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)
	@bash scripts/ui.sh $(BUILD)
	@bash scripts/mcp-servers.sh
	@bash scripts/browser.sh
	@bash bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD)
