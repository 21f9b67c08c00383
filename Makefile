# bytea_blur: build with PGXS. `make`, `make install`, `make installcheck`, `make unittest`.
EXTENSION    = bytea_blur
EXTVERSION   = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" bytea_blur.control)
MODULE_big   = bytea_blur
CORE_SRCS    = $(wildcard src/core/*.cpp)
OBJS         = $(CORE_SRCS:.cpp=.o) src/pg/bytea_blur.o
DATA         = $(wildcard sql/bytea_blur--*.sql)
PGFILEDESC   = "bytea_blur - Gaussian blur of JPEG and PNG images stored as bytea"

# pg_regress tests, in order: setup loads test/fixtures into a table the others read.
REGRESS      = setup info blur_jpeg blur_png blur_webp blur_avif blur_format regions errors table_view adopt trusted upgrade
REGRESS_OPTS = --inputdir=.

# No JIT bitcode: the inlining it enables does not apply to C++ code.
override with_llvm = no

# The server's own headers are third-party code for us: their warnings are not ours to fix.
PG_CPPFLAGS = -isystem $(shell $(PG_CONFIG) --includedir-server) -DBYTEA_BLUR_VERSION='"$(EXTVERSION)"'

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# -Wno-psabi: GCC notes that passing 64-byte vectors changed ABI in GCC 4.6; our vector
# helpers are internal and inlined, never called across a library boundary.
override CXXFLAGS += -std=c++17 -pthread -Wall -Wextra -Wno-psabi -MMD -MP
ifeq ($(WERROR),1)
override CXXFLAGS += -Werror
endif
SHLIB_LINK += -ljpeg -lpng -lwebp -lwebpdemux -lwebpmux -lavif -ldeflate -lz -lstdc++ -pthread

# Rebuild an object when a header it includes changes (PGXS tracks only the .cpp).
-include $(OBJS:.o=.d)

# Rebuild everything when the build is for another PostgreSQL (another PG_CONFIG or version):
# the stamp file changes only then, and every object depends on it.
PG_STAMP := src/pg/.built-for
PG_STAMP_TEXT := $(shell command -v $(PG_CONFIG)) $(VERSION)
ifneq ($(PG_STAMP_TEXT),$(shell cat $(PG_STAMP) 2>/dev/null))
$(shell echo '$(PG_STAMP_TEXT)' >$(PG_STAMP))
endif
$(OBJS): $(PG_STAMP)

# ---- C++ unit tests of the core (GoogleTest), built without PostgreSQL ----------------------
UNIT_CXXFLAGS = -std=c++17 -O2 -g -Wall -Wextra -Wno-psabi $(if $(filter 1,$(WERROR)),-Werror) -Isrc/core
UNIT_SRCS     = $(wildcard test/unit/*.cpp)
test/unit/run_unit_tests: $(CORE_SRCS) $(UNIT_SRCS) $(wildcard src/core/*.hpp test/unit/*.hpp)
	$(CXX) $(UNIT_CXXFLAGS) -o $@ $(CORE_SRCS) $(UNIT_SRCS) -lgtest -lgtest_main -pthread -ljpeg -lpng -lwebp -lwebpdemux -lwebpmux -lavif -ldeflate -lz

unittest: test/unit/run_unit_tests
	test/unit/run_unit_tests

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer (leak checks included).
SANITIZE_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
test/unit/run_unit_tests_sanitized: $(CORE_SRCS) $(UNIT_SRCS) $(wildcard src/core/*.hpp test/unit/*.hpp)
	$(CXX) $(UNIT_CXXFLAGS) -O1 $(SANITIZE_FLAGS) -o $@ $(CORE_SRCS) $(UNIT_SRCS) -lgtest -lgtest_main -pthread -ljpeg -lpng -lwebp -lwebpdemux -lwebpmux -lavif -ldeflate -lz

unittest-sanitize: test/unit/run_unit_tests_sanitized
	ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 test/unit/run_unit_tests_sanitized

# The JPEG decoding on two threads (split scans, read-ahead), its entropy coding in two parts and PNG's compression in
# pairs under ThreadSanitizer (clang's: GCC 12's does not start on this kernel). libjpeg itself is not instrumented; our
# hand-offs are.
TSAN_CXX ?= clang++
THREAD_TESTS = test/unit/test_large_memory.cpp test/unit/test_jpeg_threads.cpp test/unit/test_jpeg_split_entropy.cpp test/unit/test_jpeg_sampled_statistics.cpp test/unit/test_png_threads.cpp
test/unit/run_thread_tests_tsan: $(CORE_SRCS) $(THREAD_TESTS) $(wildcard src/core/*.hpp test/unit/*.hpp)
	$(TSAN_CXX) -std=c++17 -O1 -g -fsanitize=thread -Wno-unused-command-line-argument -Isrc/core -o $@ $(CORE_SRCS) $(THREAD_TESTS) -lgtest -lgtest_main -pthread -ljpeg -lpng -lwebp -lwebpdemux -lwebpmux -lavif -ldeflate -lz

unittest-threads: test/unit/run_thread_tests_tsan
	TSAN_OPTIONS=halt_on_error=1 test/unit/run_thread_tests_tsan

# libFuzzer targets (clang): `make fuzz` runs each for FUZZ_SECONDS, after replaying
# test/fuzz/regressions; test/run-tests runs them for 60 seconds each.
FUZZ_SECONDS ?= 600
fuzz:
	test/fuzz/run $(FUZZ_SECONDS)

EXTRA_CLEAN = $(OBJS:.o=.d) $(PG_STAMP) test/unit/run_unit_tests test/unit/run_unit_tests_sanitized test/unit/run_thread_tests_tsan test/fuzz/build results regression.diffs regression.out

# A release tarball of the committed tree, named after the version in bytea_blur.control.
dist:
	git archive --format=tar.gz --prefix=bytea_blur-$(EXTVERSION)/ -o bytea_blur-$(EXTVERSION).tar.gz HEAD

.PHONY: unittest unittest-sanitize unittest-threads fuzz dist
