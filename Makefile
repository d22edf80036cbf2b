# ckube build. `make` builds build/ckube; `make asan` builds build-asan/ckube;
# `make test` installs what is missing, builds both and runs every test.
# BUILD selects the output folder, so several builds can share one tree.

BUILD    ?= build
CC       ?= cc
WERROR   ?= -Werror
PKGS     := jansson yaml-0.1 sqlite3 libcurl openssl gnutls
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra $(WERROR) -Wno-unused-parameter \
            -Wno-missing-field-initializers -D_GNU_SOURCE -Isrc $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDLIBS   += $(PKG_LIBS) -lpthread -lm

SRC_main := src/cmd/main.c
SRCS     := $(filter-out $(SRC_main),$(shell find src -name '*.c' | sort))
OBJS     := $(SRCS:%.c=$(BUILD)/obj/%.o)
GEN_OBJS := $(BUILD)/obj/gen/schema_data.o
ARCHIVE  := $(BUILD)/libckube.a

UNIT_SRCS := $(shell find tests/unit -name 'test_*.c' | sort)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRCS := $(wildcard fuzz/fuzz_*.c)
FUZZ_REPLAY := $(FUZZ_SRCS:fuzz/%.c=$(BUILD)/fuzz-replay/%)
SCHEMAS  := $(sort $(wildcard src/api/schemas/*.schema))

.PHONY: all asan test unit e2e fuzz fuzz-replay run deps clean lint
all: $(BUILD)/ckube

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# The schema text is linked into the binary as one read-only blob.
$(BUILD)/gen/schemas.txt: $(SCHEMAS)
	@mkdir -p $(dir $@)
	cat $(SCHEMAS) /dev/null > $@
$(BUILD)/obj/gen/schema_data.o: $(BUILD)/gen/schemas.txt
	@mkdir -p $(dir $@)
	printf '.section .rodata\n.global ckube_schema_text\nckube_schema_text:\n.incbin "%s"\n.byte 0\n.section .note.GNU-stack,"",@progbits\n' $< | $(CC) -c -x assembler -o $@ -

$(ARCHIVE): $(OBJS) $(GEN_OBJS)
	@rm -f $@
	ar rcs $@ $^

# The whole archive: controllers register themselves in a linker section, so nothing
# names them and a plain archive link would leave them out.
$(BUILD)/ckube: $(BUILD)/obj/src/cmd/main.o $(ARCHIVE)
	$(CC) $(CFLAGS) -o $@ $< -Wl,--whole-archive $(ARCHIVE) -Wl,--no-whole-archive $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(ARCHIVE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -MMD -MP -o $@ $< $(ARCHIVE) $(LDLIBS) -lcmocka

# In-process benchmarks (bench/*.c): make $(BUILD)/bench/sched_cycle
$(BUILD)/bench/%: bench/%.c $(ARCHIVE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(ARCHIVE) $(LDLIBS)

# Each fuzz target also builds with a plain main() that replays its committed corpus.
$(BUILD)/fuzz-replay/%: fuzz/%.c fuzz/replay_main.c $(ARCHIVE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< fuzz/replay_main.c $(ARCHIVE) $(LDLIBS)

asan:
	$(MAKE) BUILD=build-asan CC=clang \
	  EXTRA_CFLAGS="-O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	  LDFLAGS="-fsanitize=address,undefined" all unit-bins fuzz-bins

.PHONY: unit-bins fuzz-bins
unit-bins: $(UNIT_BINS)
fuzz-bins: $(FUZZ_REPLAY)

# libFuzzer builds (clang): make fuzz FUZZ=fuzz_json RUNS=100000
fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang EXTRA_CFLAGS="-O1 -fsanitize=fuzzer-no-link,address,undefined" $(BUILD:%=build-fuzz)/libckube.a
	clang -O1 -g -fsanitize=fuzzer,address,undefined -Isrc $(PKG_CFLAGS) -D_GNU_SOURCE -o build-fuzz/$(FUZZ) fuzz/$(FUZZ).c build-fuzz/libckube.a $(LDLIBS)
	build-fuzz/$(FUZZ) -runs=$(or $(RUNS),100000) fuzz/corpus/$(FUZZ:fuzz_%=%)

deps:
	scripts/deps.sh

unit: unit-bins
	tests/run-unit.sh $(BUILD)

fuzz-replay: fuzz-bins
	tests/run-fuzz-replay.sh $(BUILD)

e2e: all
	tests/e2e/run.sh $(BUILD)/ckube

JOBS ?= $(shell nproc)

test: deps
	$(MAKE) -j$(JOBS) all unit-bins fuzz-bins
	$(MAKE) -j$(JOBS) asan
	tests/run-all.sh

run: deps
	$(MAKE) -j$(JOBS) all
	scripts/run.sh $(BUILD)/ckube

lint:
	scripts/lint.sh

clean:
	rm -rf build build-asan build-fuzz build-*

-include $(OBJS:.o=.d) $(UNIT_BINS:=.d)
