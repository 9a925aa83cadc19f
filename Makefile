# The two commands a user needs: `make run` and `make test`. Each does the whole set-up.
JOBS ?= 2
BUILD ?= build
BUILD_ASAN ?= build-asan
BUILD_RELEASE ?= build-release
# Warnings as errors: ON in CI and for development (`make test WERROR=ON`), OFF for users.
WERROR ?= OFF
FIRSTWALL = $(BUILD)/apps/firstwall/firstwall

.PHONY: all deps configure build run test test-asan release fuzz bench format check-format docs clean

all: build

deps:
	@scripts/setup-deps

$(BUILD)/CMakeCache.txt: | deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFW_WERROR=$(WERROR) >/dev/null

configure: deps $(BUILD)/CMakeCache.txt

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	$(FIRSTWALL) run --out out/default

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

# Unit and CLI tests once more under AddressSanitizer + UndefinedBehaviorSanitizer, at -Og with
# line tables only (-g1): it compiles as fast as -O0 (-O1 took twice as long with UBSan) and runs
# faster. ASAN_SKIP names the tests left to the optimized pass of `make test`:
# each repeats whole multi-day simulations (accuracy tables, determinism runs twice, a search over
# every catalog GPU and model) through code the other tests already run under the sanitizers, and
# together they took 32 of the 35 minutes this pass needed at -O0.
ASAN_SKIP = TrainingFlops.NoSearchedLayoutExceedsTheCeilingsOnAnyCatalogGpuOrModel|$\
  ServicePoolCli.ExampleRunsTwiceAlike|ForecastCli.AStoreReadsAsTheSameMeasurements|$\
  ForecastCli.TheBiasCorrectedTwinBeatsBothBaselinesWithAWrongModel|$\
  ForecastCli.TheTwinBeatsBothBaselinesUnderAWeatherForecastError|$\
  Serving.AutoscalingFollowsADiurnalLoadBetweenItsBounds|$\
  Serving.ACapHoldsTheReplicasDownAndTheirWorkMoves|Serving.SampledFleetMatchesTheFullSimulation|$\
  AnomalyFaults.FalseAlarmsOfACleanDay
test-asan: deps
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-Og -g1" \
	  -DFW_SANITIZE=ON -DFW_BENCH=OFF -DFW_WERROR=$(WERROR) >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 900 -LE "scale|browser" -E '^($(ASAN_SKIP))$$'

# The optimized build users may choose (-DCMAKE_BUILD_TYPE=Release): CI builds it too, so every
# documented build type compiles.
release: deps
	@cmake -S . -B $(BUILD_RELEASE) -DCMAKE_BUILD_TYPE=Release -DFW_BENCH=OFF \
	  -DFW_WERROR=$(WERROR) >/dev/null
	@cmake --build $(BUILD_RELEASE) -j $(JOBS) --target firstwall

# Coverage-guided fuzzing of every reader (fuzz/, clang 14 with ASan + UBSan); FUZZ_SECONDS a target.
FUZZ_SECONDS ?= 60
fuzz: deps
	scripts/fuzz $(FUZZ_SECONDS)

bench: build
	scripts/bench $(BUILD)

format:
	@git ls-files --cached --others --exclude-standard '*.h' '*.cc' | xargs clang-format-14 -i

check-format:
	@scripts/check-format

docs: build
	$(FIRSTWALL) schema --markdown > docs/scenario.md
	$(FIRSTWALL) schema --site-map > $(BUILD)/site-map-keys.md
	awk -v keys=$(BUILD)/site-map-keys.md '/<!-- site-map keys begin -->/ { print; \
	  while ((getline l < keys) > 0) print l; skip = 1; next } \
	  /<!-- site-map keys end -->/ { skip = 0 } !skip' docs/live.md > $(BUILD)/live.md
	mv $(BUILD)/live.md docs/live.md

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_RELEASE) build-fuzz out
